/**
 * A folder only this user can use (for native code copied out of a compiled
 * binary, for driver sockets): made 0700, refused when another user owns it.
 * Uses Deno's file calls only, so modules that a web page also loads may
 * import it (nothing runs until it is called).
 *
 * @module
 */

import { OpenL3Error } from "./errors.ts";

/** This process's user id, or null where the platform or the permissions give none. */
export function currentUid(): number | null {
  try {
    return Deno.uid();
  } catch {
    return null;
  }
}

/**
 * Make `dir` (and its missing parents) and check it is this user's own and private: not a link, owned by
 * this user, no access for group or others (tightened when it is ours but open).
 *
 * @throws {OpenL3Error} when it belongs to another user or is not a folder.
 */
export function privateDir(dir: string): void {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const info = Deno.lstatSync(dir);
  const uid = currentUid();
  if (!info.isDirectory) throw new OpenL3Error(`${dir} is not a folder: native code is not copied there`);
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    throw new OpenL3Error(
      `${dir} belongs to another user (uid ${info.uid}): native code is not loaded from it (set XDG_CACHE_HOME)`,
    );
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) Deno.chmodSync(dir, 0o700);
}
