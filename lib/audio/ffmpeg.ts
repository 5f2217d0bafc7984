/**
 * The formats no maintained npm decoder reads here — M4A/MP4 (AAC, ALAC:
 * most purchased and ripped Apple music) and raw ADTS AAC — through
 * `ffmpeg` when it is on the PATH, as librosa's audioread does: `ffprobe`
 * for the stream's rate, channels, duration and tags, then `ffmpeg` decoding
 * the first audio stream (a cover picture is another stream, left alone) to
 * float32 at its own rate, read as it comes. Without ffmpeg, one line says
 * what to install.
 *
 * @module
 */

import { AudioDecodeError } from "../util/errors.ts";
import type { Tags } from "./tags.ts";

/** Formats read through ffmpeg. */
export type FfmpegFormat = "m4a" | "aac";

/** What ffprobe says of a file's first audio stream. */
export interface ProbedAudio {
  /** Samples per second. */
  sampleRate: number;
  /** Channels. */
  channelCount: number;
  /** Seconds, when known. */
  duration?: number;
  /** Title, artist, album, … */
  tags: Tags;
  /** The codec (aac, alac, …). */
  codec: string;
}

/** The line for a file ffmpeg is needed for, when it is not there. */
export function ffmpegMissing(file: string, format: FfmpegFormat): AudioDecodeError {
  return new AudioDecodeError(
    file,
    `${format === "m4a" ? "M4A/MP4 (AAC, ALAC)" : "AAC"} is read through ffmpeg, which is not on the PATH: ` +
      `install it (apt-get install ffmpeg, brew install ffmpeg, winget install ffmpeg)`,
  );
}

async function run(cmd: string, args: string[], file: string, format: FfmpegFormat): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw ffmpegMissing(file, format);
    throw new AudioDecodeError(file, `${cmd} could not be run (${(e as Error).message})`, { cause: e });
  }
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? `exit ${out.code}`;
    throw new AudioDecodeError(file, `${cmd} cannot read it: ${why.replace(/^.*?: /, "")}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Ask ffprobe about a file's first audio stream. */
export async function probeAudio(path: string, file: string, format: FfmpegFormat): Promise<ProbedAudio> {
  const text = await run(
    "ffprobe",
    [
      "-v",
      "error",
      "-select_streams",
      "a:0",
      "-show_entries",
      "stream=codec_name,sample_rate,channels,duration:format=duration:format_tags=title,artist,album,genre,date,track",
      "-of",
      "json",
      path,
    ],
    file,
    format,
  );
  const j = JSON.parse(text);
  const s = j.streams?.[0];
  if (!s) throw new AudioDecodeError(file, "no audio stream in it");
  const tags: Tags = {};
  for (const [k, v] of Object.entries(j.format?.tags ?? {})) {
    if (typeof v === "string" && v.trim()) (tags as Record<string, string>)[k.toLowerCase()] = v.trim();
  }
  const duration = Number(s.duration ?? j.format?.duration);
  return {
    sampleRate: Number(s.sample_rate),
    channelCount: Number(s.channels),
    duration: Number.isFinite(duration) ? duration : undefined,
    tags,
    codec: String(s.codec_name ?? "?"),
  };
}

/** A running ffmpeg decode: float32 chunks, one array per channel, then null. */
export interface FfmpegDecode {
  /** The next chunk (possibly empty), or null at the end. */
  pull(): Promise<Float32Array[] | null>;
  /** Stop it. */
  kill(): void;
}

/** Decode the first audio stream of `path` to float32 at its own rate, `channels` channels. */
export function decodeWithFfmpeg(
  path: string,
  file: string,
  format: FfmpegFormat,
  channels: number,
): FfmpegDecode {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("ffmpeg", {
      args: [
        "-v",
        "error",
        "-nostdin",
        "-i",
        path,
        "-map",
        "0:a:0",
        "-f",
        "f32le",
        "-acodec",
        "pcm_f32le",
        "-",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw ffmpegMissing(file, format);
    throw e;
  }
  const reader = child.stdout.getReader();
  const errors = new Response(child.stderr).text();
  const frameBytes = 4 * channels;
  let rest = new Uint8Array(0);
  let done = false;
  return {
    async pull() {
      if (done) return null;
      const { value, done: ended } = await reader.read();
      if (ended) {
        done = true;
        const status = await child.status;
        if (!status.success) {
          const why = (await errors).trim().split("\n").pop() ?? `exit ${status.code}`;
          throw new AudioDecodeError(file, `ffmpeg cannot decode it: ${why.replace(/^.*?: /, "")}`);
        }
        if (rest.length) throw new AudioDecodeError(file, "ffmpeg's output ended inside a sample frame");
        return null;
      }
      const bytes = rest.length ? new Uint8Array([...rest, ...value]) : value;
      const whole = bytes.length - (bytes.length % frameBytes);
      rest = bytes.slice(whole);
      const interleaved = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + whole));
      const n = interleaved.length / channels;
      const out = Array.from({ length: channels }, () => new Float32Array(n));
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < channels; c++) out[c][i] = interleaved[i * channels + c];
      }
      return out;
    },
    kill() {
      if (done) return;
      done = true;
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
      reader.cancel().catch(() => {});
      child.status.catch(() => {});
    },
  };
}
