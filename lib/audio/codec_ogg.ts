/**
 * Ogg Vorbis and Ogg Opus, through `@wasm-audio-decoders/ogg-vorbis` and `ogg-opus-decoder` (loaded when
 * met): the page walk keeps the audio stream's pages (a cover's Theora stream is dropped) and tells a page
 * cut off or a last page not marked end-of-stream; the last granule gives the length.
 *
 * @module
 */

import { AudioDecodeError } from "../util/errors.ts";
import { concat } from "../util/bytes.ts";
import type { ByteSource } from "./byte_source.ts";
import {
  channelsOf,
  checkAudioBounds,
  type Codec,
  type CodecEntry,
  concat2,
  errorsOf,
  type Opened,
  startsWith,
} from "./codec.ts";
import { readOggTags, type Tags } from "./tags.ts";

/** Offset of the first packet of the Ogg page at `at`. */
function oggFirstPacket(bytes: Uint8Array, at: number): number {
  return at + 27 + bytes[at + 26];
}

/** End of the whole Ogg page at `at`, or -1 when `bytes` holds less than the page. */
function oggPageEnd(bytes: Uint8Array, at: number): number {
  if (at + 27 > bytes.length) return -1;
  const nseg = bytes[at + 26];
  if (at + 27 + nseg > bytes.length) return -1;
  let body = 0;
  for (let i = 0; i < nseg; i++) body += bytes[at + 27 + i];
  const end = at + 27 + nseg + body;
  return end > bytes.length ? -1 : end;
}

/** The serial number of the Ogg page at `at`. */
function oggSerial(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + at + 14, 4).getUint32(0, true);
}

/**
 * The first Vorbis or Opus stream among an Ogg file's beginning-of-stream pages (they all come first): a
 * file converted from a tagged MP3 often starts with a Theora stream holding the cover art.
 */
export function oggAudioStream(
  head: Uint8Array,
): { serial: number; format: "ogg-vorbis" | "ogg-opus"; at: number } | null {
  for (let at = 0; startsWith(head, at, "OggS") && (head[at + 5] & 0x02) !== 0;) {
    const p = oggFirstPacket(head, at);
    if (startsWith(head, p, "\x01vorbis")) return { serial: oggSerial(head, at), format: "ogg-vorbis", at };
    if (startsWith(head, p, "OpusHead")) return { serial: oggSerial(head, at), format: "ogg-opus", at };
    const end = oggPageEnd(head, at);
    if (end < 0) break;
    at = end;
  }
  return null;
}

/** The whole pages of one logical stream among `bytes` (which start at a page), in order. */
function oggStreamPages(bytes: Uint8Array, serial: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let at = 0; startsWith(bytes, at, "OggS");) {
    const end = oggPageEnd(bytes, at);
    if (end < 0) break;
    if (oggSerial(bytes, at) === serial) parts.push(bytes.subarray(at, end));
    at = end;
  }
  return concat(parts);
}

/** The granule position of the stream's last page in the file's tail, if a page header is found there. */
async function lastGranule(src: ByteSource, serial: number): Promise<number | undefined> {
  const tailStart = Math.max(0, src.size - 65536);
  const tail = await src.readAt(tailStart, src.size - tailStart);
  for (let at = tail.length - 27; at >= 0; at--) {
    if (startsWith(tail, at, "OggS") && oggSerial(tail, at) === serial) {
      const v = new DataView(tail.buffer, tail.byteOffset + at, 27);
      return v.getUint32(6, true) + v.getUint32(10, true) * 2 ** 32;
    }
  }
  return undefined;
}

async function openOgg(
  src: ByteSource,
  file: string,
  format: "ogg-vorbis" | "ogg-opus",
  maxDuration: number,
): Promise<Opened> {
  const head = await src.readAt(0, 65536);
  const stream = oggAudioStream(head);
  if (!stream) throw new AudioDecodeError(file, "no Vorbis or Opus stream among the Ogg file's streams");
  const p = oggFirstPacket(head, stream.at);
  // Vorbis identification header: channels at +11, rate at +12; OpusHead: channels at +9, pre-skip at +10.
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const channels = format === "ogg-vorbis" ? head[p + 11] : head[p + 9];
  const sampleRate = format === "ogg-vorbis" ? v.getUint32(p + 12, true) : 48000;
  const granule = await lastGranule(src, stream.serial);
  const declaredFrames = granule === undefined
    ? undefined
    : Math.max(0, granule - (format === "ogg-opus" ? v.getUint16(p + 10, true) : 0));
  checkAudioBounds(file, sampleRate, declaredFrames ?? 0, maxDuration);
  let tags: Tags = {};
  try {
    tags = readOggTags(oggStreamPages(head, stream.serial));
  } catch { /* tags are a courtesy */ }
  const decoder = format === "ogg-vorbis"
    ? new (await import("@wasm-audio-decoders/ogg-vorbis")).OggVorbisDecoder()
    : new (await import("ogg-opus-decoder")).OggOpusDecoder();
  await decoder.ready;
  // the page walk
  let pending: Uint8Array = new Uint8Array(0), offset = 0, pages = 0, eos = false;
  let problem: string | undefined;
  // whole pages of the audio stream go to the decoder; other streams' pages (a cover's Theora) are dropped
  const walk = (bytes: Uint8Array): Uint8Array => {
    if (problem) return new Uint8Array(0);
    pending = pending.length ? concat2(pending, bytes) : bytes;
    let at = 0;
    const keep: Uint8Array[] = [];
    for (;;) {
      if (at + 27 > pending.length) break;
      if (!startsWith(pending, at, "OggS")) {
        problem = `corrupt Ogg stream: no page header at byte ${offset + at}`;
        break;
      }
      const end = oggPageEnd(pending, at);
      if (end < 0) break;
      if (oggSerial(pending, at) === stream.serial) {
        eos = (pending[at + 5] & 0x04) !== 0;
        keep.push(pending.subarray(at, end));
      }
      pages++;
      at = end;
    }
    offset += at;
    pending = pending.slice(at);
    return concat(keep);
  };
  const codec: Codec = {
    warnings: [],
    async decode(bytes) {
      const pagesOfStream = walk(bytes);
      if (problem) throw new AudioDecodeError(file, problem);
      if (pagesOfStream.length === 0) return [];
      const r = await decoder.decode(pagesOfStream);
      codec.warnings.push(...errorsOf(r.errors));
      return r.samplesDecoded ? channelsOf(r, channels) : [];
    },
    async finish() {
      if (pending.length > 0) {
        const cut = pending.length < 27 || pending.length < 27 + pending[26]
          ? "header is cut off"
          : "runs past the end of the file";
        throw new AudioDecodeError(file, `truncated: Ogg page ${pages} ${cut}`);
      }
      if (!eos) {
        throw new AudioDecodeError(
          file,
          `truncated: the last Ogg page (${pages}) is not marked end-of-stream`,
        );
      }
      const r = await decoder.flush();
      codec.warnings.push(...errorsOf(r.errors));
      return r.samplesDecoded ? channelsOf(r, channels) : [];
    },
    free: () => decoder.free(),
  };
  return {
    info: { format, sampleRate, channelCount: channels, declaredFrames, tags },
    dataStart: 0,
    dataEnd: src.size,
    codec,
  };
}

/** The Ogg codec (Vorbis and Opus). */
export const OGG_CODEC: CodecEntry = {
  name: "Ogg Vorbis and Opus (@wasm-audio-decoders)",
  formats: ["ogg-vorbis", "ogg-opus"],
  files: [{ ext: ".ogg", mime: "audio/ogg" }, { ext: ".oga", mime: "audio/ogg" }, {
    ext: ".opus",
    mime: "audio/ogg",
  }],
  open: ({ src, file, format, maxDuration }) =>
    openOgg(src, file, format as "ogg-vorbis" | "ogg-opus", maxDuration),
};
