/**
 * Content hashes: SHA-256 (song files, weights, converted models) and git's
 * blob id (how the published OpenL3 weights are identified).
 *
 * @module
 */

/** Bytes as lowercase hex. */
export function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Git's blob id: SHA-1 of `"blob <size>\0"` followed by the bytes. */
export async function gitBlobId(bytes: Uint8Array): Promise<string> {
  const head = new TextEncoder().encode(`blob ${bytes.length}\0`);
  const all = new Uint8Array(head.length + bytes.length);
  all.set(head);
  all.set(bytes, head.length);
  return hex(await crypto.subtle.digest("SHA-1", all));
}

/** SHA-256 of bytes, hex. */
export async function sha256(bytes: Uint8Array): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}
