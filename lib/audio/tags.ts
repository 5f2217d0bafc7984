/**
 * Reading the common tags of an audio file — title, artist, album, date,
 * genre, track — from ID3v2 (MP3), Vorbis comments (Ogg Vorbis, Opus, FLAC)
 * and RIFF INFO (WAV). Unknown or malformed tags are skipped, never fatal.
 *
 * @module
 */

/** Normalised tag names. */
export type Tags = Partial<Record<"title" | "artist" | "album" | "date" | "genre" | "track", string>>;

const ID3_FRAMES: Record<string, keyof Tags> = {
  TIT2: "title",
  TPE1: "artist",
  TALB: "album",
  TDRC: "date",
  TYER: "date",
  TCON: "genre",
  TRCK: "track",
  TT2: "title",
  TP1: "artist",
  TAL: "album",
  TYE: "date",
  TCO: "genre",
  TRK: "track",
};

const VORBIS_FIELDS: Record<string, keyof Tags> = {
  TITLE: "title",
  ARTIST: "artist",
  ALBUM: "album",
  DATE: "date",
  GENRE: "genre",
  TRACKNUMBER: "track",
};

const RIFF_INFO: Record<string, keyof Tags> = {
  INAM: "title",
  IART: "artist",
  IPRD: "album",
  ICRD: "date",
  IGNR: "genre",
  ITRK: "track",
};

function clean(s: string): string {
  return s.replace(/\0+$/g, "").replace(/\0/g, "; ").trim();
}

/** Decode an ID3v2 text frame body (encoding byte first). */
function id3Text(body: Uint8Array): string {
  const enc = body[0];
  const data = body.subarray(1);
  if (enc === 1 || enc === 2) {
    const be = enc === 2 || (data[0] === 0xfe && data[1] === 0xff);
    const hasBom = (data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff);
    return clean(new TextDecoder(be ? "utf-16be" : "utf-16le").decode(data.subarray(hasBom ? 2 : 0)));
  }
  return clean(new TextDecoder(enc === 3 ? "utf-8" : "latin1").decode(data));
}

function syncsafe(b: Uint8Array, at: number): number {
  return (b[at] << 21) | (b[at + 1] << 14) | (b[at + 2] << 7) | b[at + 3];
}

/** Tags of an ID3v2 (2.2, 2.3, 2.4) tag at the start of the bytes. */
export function readId3v2(bytes: Uint8Array): Tags {
  const tags: Tags = {};
  if (bytes.length < 10 || bytes[0] !== 0x49 || bytes[1] !== 0x44 || bytes[2] !== 0x33) return tags;
  const major = bytes[3];
  const size = syncsafe(bytes, 6);
  const end = Math.min(bytes.length, 10 + size);
  let at = 10;
  if (bytes[5] & 0x40 && major >= 3) {
    at += major === 4 ? syncsafe(bytes, 10) : 4 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(10);
  }
  const idLen = major === 2 ? 3 : 4, headLen = major === 2 ? 6 : 10;
  while (at + headLen <= end) {
    const id = String.fromCharCode(...bytes.subarray(at, at + idLen));
    if (!/^[A-Z0-9]+$/.test(id)) break; // padding
    const len = major === 2
      ? (bytes[at + 3] << 16) | (bytes[at + 4] << 8) | bytes[at + 5]
      : major === 4
      ? syncsafe(bytes, at + 4)
      : new DataView(bytes.buffer, bytes.byteOffset).getUint32(at + 4);
    const body = bytes.subarray(at + headLen, Math.min(end, at + headLen + len));
    const key = ID3_FRAMES[id];
    if (key && !tags[key] && body.length > 1) {
      const text = id3Text(body);
      if (text) tags[key] = text;
    }
    at += headLen + len;
  }
  return tags;
}

/** Tags of a Vorbis comment block (after any packet header the caller skipped). */
export function readVorbisComment(block: Uint8Array): Tags {
  const tags: Tags = {};
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  try {
    let at = 0;
    const vendor = view.getUint32(at, true);
    at += 4 + vendor;
    const count = view.getUint32(at, true);
    at += 4;
    for (let i = 0; i < count && at + 4 <= block.length; i++) {
      const len = view.getUint32(at, true);
      at += 4;
      const text = new TextDecoder().decode(block.subarray(at, at + len));
      at += len;
      const eq = text.indexOf("=");
      const key = VORBIS_FIELDS[text.slice(0, eq).toUpperCase()];
      if (eq > 0 && key && !tags[key]) tags[key] = clean(text.slice(eq + 1));
    }
  } catch { /* truncated block: keep what was read */ }
  return tags;
}

/** Tags of a FLAC stream's VORBIS_COMMENT metadata block. */
export function readFlacTags(bytes: Uint8Array, start: number): Tags {
  let at = start + 4; // after "fLaC"
  for (let guard = 0; guard < 128 && at + 4 <= bytes.length; guard++) {
    const type = bytes[at] & 0x7f, last = bytes[at] & 0x80;
    const len = (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
    if (type === 4) return readVorbisComment(bytes.subarray(at + 4, at + 4 + len));
    if (last) break;
    at += 4 + len;
  }
  return {};
}

/** Tags of an Ogg Vorbis or Opus stream: the comment header in the second packet. */
export function readOggTags(bytes: Uint8Array): Tags {
  // collect the first pages' packet data until the comment packet is whole
  const packets: Uint8Array[] = [];
  let current: number[] = [];
  let at = 0;
  for (let page = 0; page < 16 && at + 27 <= bytes.length && packets.length < 2; page++) {
    const nseg = bytes[at + 26];
    let body = at + 27 + nseg;
    for (let s = 0; s < nseg; s++) {
      const lace = bytes[at + 27 + s];
      for (let k = 0; k < lace && body + k < bytes.length; k++) current.push(bytes[body + k]);
      body += lace;
      if (lace < 255) {
        packets.push(Uint8Array.from(current));
        current = [];
        if (packets.length === 2) break;
      }
    }
    at = body;
  }
  const comment = packets[1];
  if (!comment) return {};
  const text = String.fromCharCode(...comment.subarray(0, 8));
  if (text.startsWith("\x03vorbis")) return readVorbisComment(comment.subarray(7));
  if (text === "OpusTags") return readVorbisComment(comment.subarray(8));
  return {};
}

/** Tags of a RIFF INFO list: the body of a LIST chunk after its "INFO" type. */
export function readRiffInfoList(body: Uint8Array): Tags {
  const tags: Tags = {};
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let p = 0;
  while (p + 8 <= body.length) {
    const sub = String.fromCharCode(...body.subarray(p, p + 4));
    const len = view.getUint32(p + 4, true);
    const key = RIFF_INFO[sub];
    if (key) {
      tags[key] = clean(new TextDecoder().decode(body.subarray(p + 8, Math.min(body.length, p + 8 + len))));
    }
    p += 8 + len + (len & 1);
  }
  return tags;
}

/** Tags of a WAV file's LIST/INFO chunk. */
export function readWavTags(bytes: Uint8Array): Tags {
  const tags: Tags = {};
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(at, at + 4));
    const size = view.getUint32(at + 4, true);
    if (id === "LIST" && String.fromCharCode(...bytes.subarray(at + 8, at + 12)) === "INFO") {
      let p = at + 12;
      const end = Math.min(bytes.length, at + 8 + size);
      while (p + 8 <= end) {
        const sub = String.fromCharCode(...bytes.subarray(p, p + 4));
        const len = view.getUint32(p + 4, true);
        const key = RIFF_INFO[sub];
        if (key) {
          tags[key] = clean(new TextDecoder().decode(bytes.subarray(p + 8, Math.min(end, p + 8 + len))));
        }
        p += 8 + len + (len & 1);
      }
    }
    at += 8 + size + (size & 1);
  }
  return tags;
}
