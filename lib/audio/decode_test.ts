import { assert, assertAllClose, assertRejects, fixture, peakFrequency, sine } from "../../tests/helpers.ts";
import { decodeAudioBytes, decodeAudioFile, detectFormat, toMono } from "./decode.ts";
import { encodeWav, type WavEncoding } from "./wav.ts";
import { concat, encodeMp3 } from "./mp3_encode.ts";
import { AudioDecodeError } from "../util/errors.ts";

const ENCODINGS: [WavEncoding, number][] = [
  ["pcm8", 1 / 128],
  ["pcm16", 1 / 32768],
  ["pcm24", 1 / 8388608],
  ["pcm32", 1e-9],
  ["float32", 1e-7],
  ["float64", 0],
];

for (const [encoding, step] of ENCODINGS) {
  for (const extensible of [false, true]) {
    Deno.test(`decode: WAV ${encoding}${extensible ? " (WAVE_FORMAT_EXTENSIBLE)" : ""}, 1/2/6 channels`, async () => {
      for (const nch of [1, 2, 6]) {
        const chans = Array.from({ length: nch }, (_, c) => sine(220 * (c + 1), 16000, 1600, 0.4));
        const bytes = encodeWav(chans, 16000, { encoding, extensible });
        const d = await decodeAudioBytes(bytes, "x.wav");
        assert.equal(d.format, "wav");
        assert.equal(d.sampleRate, 16000);
        assert.equal(d.channelCount, nch);
        assert.equal(d.channels.length, nch);
        chans.forEach((c, i) => assertAllClose(d.channels[i], c, step * 0.51 + 1e-7, `channel ${i}`));
      }
    });
  }
}

Deno.test("decode: WAV integer scaling is soundfile's (x / 2^(bits-1))", async () => {
  const bytes = encodeWav([new Float32Array([-1, -0.5, 0, 0.5])], 8000, { encoding: "pcm16" });
  const d = await decodeAudioBytes(bytes, "x.wav");
  assert.deepEqual(Array.from(d.channels[0]), [-1, -0.5, 0, 0.5]);
});

Deno.test("decode: toMono is the mean of the channels", () => {
  const m = toMono([new Float32Array([1, 0.5]), new Float32Array([0, 0.5]), new Float32Array([0.5, -1])]);
  assertAllClose(m, [0.5, 0], 1e-7);
  const one = new Float32Array([1, 2]);
  assert.equal(toMono([one]), one);
});

Deno.test("decode: MP3 mono 22 050 Hz CBR is gapless (same length, no delay)", async () => {
  const x = sine(440, 22050, 22050, 0.5);
  const d = await decodeAudioBytes(encodeMp3([x], 22050, { kbps: 64 }), "tone.mp3");
  assert.equal(d.format, "mp3");
  assert.equal(d.sampleRate, 22050);
  assert.equal(d.channelCount, 1);
  assert.equal(d.channels.length, 1);
  assert.equal(d.channels[0].length, 22050);
  // aligned: the decoded tone correlates with the input at lag 0 far better than at lag ±10
  const corr = (lag: number) => {
    let s = 0;
    for (let i = 2000; i < 20000; i++) s += x[i] * d.channels[0][i + lag];
    return s;
  };
  assert.ok(corr(0) > 0.9 * 18000 * 0.125, `correlation ${corr(0)}`);
  assert.ok(corr(0) > corr(10) && corr(0) > corr(-10));
  assert.equal(peakFrequency(d.channels[0], 22050, 400, 480), 440);
});

Deno.test("decode: MP3 stereo 44.1 kHz keeps both channels", async () => {
  const l = sine(440, 44100, 44100, 0.5), r = sine(660, 44100, 44100, 0.5);
  const d = await decodeAudioBytes(encodeMp3([l, r], 44100), "stereo.mp3");
  assert.equal(d.channelCount, 2);
  assert.equal(d.channels[0].length, 44100);
  assert.equal(peakFrequency(d.channels[0].subarray(0, 8820), 44100, 400, 700), 440);
  assert.equal(peakFrequency(d.channels[1].subarray(0, 8820), 44100, 400, 700), 660);
});

/** An ID3v2.3 tag with a title and an embedded JPEG-sized cover (APIC) frame. */
function id3WithCover(coverBytes: number): Uint8Array {
  const frame = (id: string, body: Uint8Array) => {
    const h = new Uint8Array(10);
    h.set(new TextEncoder().encode(id));
    new DataView(h.buffer).setUint32(4, body.length);
    return concat([h, body]);
  };
  const title = frame("TIT2", new Uint8Array([0, ...new TextEncoder().encode("Test")]));
  const apicHead = new TextEncoder().encode("\0image/jpeg\0\x03cover\0");
  const cover = new Uint8Array(coverBytes);
  cover.set([0xff, 0xd8, 0xff, 0xe0]); // a JPEG start, and frame-sync-like bytes inside the tag
  cover.fill(0xff, 100, 200);
  const apic = frame("APIC", concat([apicHead, cover]));
  const body = concat([title, apic]);
  const size = body.length;
  const header = new Uint8Array([
    0x49,
    0x44,
    0x33,
    3,
    0,
    0,
    (size >> 21) & 0x7f,
    (size >> 14) & 0x7f,
    (size >> 7) & 0x7f,
    size & 0x7f,
  ]);
  return concat([header, body]);
}

Deno.test("decode: MP3 behind an ID3v2 tag with embedded cover art", async () => {
  const mp3 = encodeMp3([sine(440, 22050, 11025, 0.5)], 22050);
  const bytes = concat([id3WithCover(50_000), mp3]);
  assert.equal(detectFormat(bytes), "mp3");
  const d = await decodeAudioBytes(bytes, "tagged.mp3");
  assert.equal(d.channels[0].length, 11025);
  assert.equal(peakFrequency(d.channels[0], 22050, 400, 480), 440);
  assert.deepEqual(d.tags, { title: "Test" });
});

Deno.test("decode: MP3 whose frames change bitrate (VBR stream)", async () => {
  const x = sine(440, 22050, 22050, 0.5);
  const a = encodeMp3([x], 22050, { kbps: 32, gapless: false });
  const b = encodeMp3([x], 22050, { kbps: 128, gapless: false });
  const d = await decodeAudioBytes(concat([a, b]), "vbr.mp3");
  // without a LAME tag the encoder delay stays in: each part is a whole number of 576-sample frames
  assert.equal(d.channels[0].length % 576, 0);
  assert.ok(d.channels[0].length >= 2 * 22050);
  assert.equal(peakFrequency(d.channels[0].subarray(30000, 40000), 22050, 400, 480), 440);
});

const CODEC_FIXTURES: [string, string, number, number, number][] = [
  // file, format, rate, channels, seconds
  ["tone440_44k_stereo.flac", "flac", 44100, 2, 0.5],
  ["tone440_22k_mono.ogg", "ogg-vorbis", 22050, 1, 1.0],
  ["tone440_48k_stereo.opus", "ogg-opus", 48000, 2, 1.0],
];
for (const [file, format, sr, nch, seconds] of CODEC_FIXTURES) {
  Deno.test(`decode: ${format} (${file}) gives rate, length, channels and pitch`, async () => {
    const d = await decodeAudioFile(fixture(file));
    assert.equal(d.format, format);
    assert.equal(d.sampleRate, sr);
    assert.equal(d.channelCount, nch);
    assert.equal(d.channels.length, nch);
    assert.equal(d.channels[0].length, Math.round(sr * seconds));
    const mono = toMono(d.channels);
    assert.equal(peakFrequency(mono.subarray(0, Math.round(sr * 0.2)), sr, 400, 480), 440);
    const peak = Array.from(mono).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(peak > 0.4 && peak < 0.6, `peak ${peak}`);
    assert.deepEqual(d.tags, { title: "Tone 440", artist: "Fixture Maker", album: "Test Tones" });
  });
}

Deno.test("decode: the format comes from the bytes, not the extension", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const flacAsMp3 = `${dir}/really_flac.mp3`;
    await Deno.copyFile(fixture("tone440_44k_stereo.flac"), flacAsMp3);
    assert.equal((await decodeAudioFile(flacAsMp3)).format, "flac");
    const wavAsOgg = `${dir}/really_wav.ogg`;
    await Deno.writeFile(wavAsOgg, encodeWav([new Float32Array(100)], 8000));
    assert.equal((await decodeAudioFile(wavAsOgg)).format, "wav");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decode: bad input raises AudioDecodeError naming the file and the problem", async () => {
  const dir = await Deno.makeTempDir();
  const wav = encodeWav([sine(440, 8000, 8000, 0.5)], 8000);
  const mp3 = encodeMp3([sine(440, 22050, 22050, 0.5)], 22050);
  const flac = await Deno.readFile(fixture("tone440_44k_stereo.flac"));
  const ogg = await Deno.readFile(fixture("tone440_22k_mono.ogg"));
  const opus = await Deno.readFile(fixture("tone440_48k_stereo.opus"));
  let seed = 7;
  const garbage = Uint8Array.from({ length: 5000 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty.wav", new Uint8Array(0), /file is empty/],
    ["truncated.wav", wav.subarray(0, 3000), /truncated: data chunk declares/],
    ["headless.wav", wav.subarray(0, 30), /truncated/],
    ["no_samples.wav", encodeWav([new Float32Array(0)], 8000), /no audio/],
    ["truncated.mp3", mp3.subarray(0, Math.floor(mp3.length / 2) + 7), /truncated: the last MPEG frame/],
    ["only_tag.mp3", id3WithCover(1000), /no MPEG audio frames/],
    ["garbage.mp3", garbage, /unrecognised or unsupported audio format/],
    [
      "song.mid",
      new TextEncoder().encode("MThd\0\0\0\x06\0\x01\0\x02\0\x60MTrk"),
      /unsupported audio format/,
    ],
    ["song.aiff", new TextEncoder().encode("FORM\0\0\0\x20AIFFCOMM"), /unsupported audio format/],
    ["truncated.flac", flac.subarray(0, Math.floor(flac.length / 2)), /truncated|flac decoder failed/],
    ["header_only.flac", flac.subarray(0, 42), /truncated|no audio|flac decoder failed/],
    ["truncated.ogg", ogg.subarray(0, Math.floor(ogg.length * 0.6)), /truncated/],
    ["truncated.opus", opus.subarray(0, Math.floor(opus.length * 0.6)), /truncated/],
  ];
  try {
    for (const [name, bytes, pattern] of cases) {
      const path = `${dir}/${name}`;
      await Deno.writeFile(path, bytes);
      const e = await assertRejects(() => decodeAudioFile(path), AudioDecodeError, pattern);
      assert.ok(e.message.startsWith(path), `${name}: message names the file: ${e.message}`);
    }
    await assertRejects(() => decodeAudioFile(`${dir}/missing.wav`), AudioDecodeError, /no such file/);
    await assertRejects(() => decodeAudioFile(dir), AudioDecodeError, /is a folder, not a file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decode: WAV LIST/INFO tags are read; a file without tags has none", async () => {
  const wav = encodeWav([new Float32Array(800)], 8000);
  const info = (id: string, text: string) => {
    const body = new TextEncoder().encode(text + "\0");
    const chunk = new Uint8Array(8 + body.length + (body.length & 1));
    chunk.set(new TextEncoder().encode(id));
    new DataView(chunk.buffer).setUint32(4, body.length, true);
    chunk.set(body, 8);
    return chunk;
  };
  const items = concat([new TextEncoder().encode("INFO"), info("INAM", "Song"), info("IART", "Band")]);
  const list = concat([new TextEncoder().encode("LIST"), new Uint8Array(4), items]);
  new DataView(list.buffer).setUint32(4, items.length, true);
  const bytes = concat([wav, list]);
  new DataView(bytes.buffer).setUint32(4, bytes.length - 8, true);
  assert.deepEqual((await decodeAudioBytes(bytes, "tagged.wav")).tags, { title: "Song", artist: "Band" });
  assert.deepEqual((await decodeAudioBytes(wav, "plain.wav")).tags, {});
});

/** Ogg's page CRC (polynomial 0x04c11db7, no reflection), as libogg computes it. */
function oggCrc(page: Uint8Array): number {
  let crc = 0;
  for (const byte of page) {
    crc ^= byte << 24;
    for (let k = 0; k < 8; k++) crc = (crc & 0x80000000) ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc >>> 0;
}

/** One Ogg page holding one packet of at most 255 × 254 bytes. */
function oggPage(
  serial: number,
  seq: number,
  flags: number,
  granule: number,
  packet: Uint8Array,
): Uint8Array {
  const lacing: number[] = [];
  let left = packet.length;
  while (left >= 255) {
    lacing.push(255);
    left -= 255;
  }
  lacing.push(left);
  const page = new Uint8Array(27 + lacing.length + packet.length);
  const v = new DataView(page.buffer);
  page.set(new TextEncoder().encode("OggS"));
  page[5] = flags;
  v.setUint32(6, granule >>> 0, true);
  v.setUint32(10, Math.floor(granule / 2 ** 32), true);
  v.setUint32(14, serial, true);
  v.setUint32(18, seq, true);
  page[26] = lacing.length;
  page.set(lacing, 27);
  page.set(packet, 27 + lacing.length);
  v.setUint32(22, oggCrc(page), true);
  return page;
}

/** The whole pages of an Ogg file. */
function oggPages(bytes: Uint8Array): Uint8Array[] {
  const pages: Uint8Array[] = [];
  for (let at = 0; at + 27 <= bytes.length;) {
    let end = at + 27 + bytes[at + 26];
    for (let i = 0; i < bytes[at + 26]; i++) end += bytes[at + 27 + i];
    pages.push(bytes.subarray(at, end));
    at = end;
  }
  return pages;
}

Deno.test("decode: an Ogg file whose first stream is a cover's Theora video decodes its Vorbis stream, the same samples", async () => {
  const ogg = await Deno.readFile(fixture("tone440_22k_mono.ogg"));
  const vorbis = oggPages(ogg);
  const theora = 0x74686f72;
  const id = new Uint8Array(42);
  id.set([0x80, ...new TextEncoder().encode("theora"), 3, 2, 1]);
  const cover = [
    oggPage(theora, 0, 0x02, 0, id), // its BOS page first, as FFmpeg writes a converted MP3's cover
    oggPage(theora, 1, 0x00, 0, new Uint8Array(300).fill(7)),
    oggPage(theora, 2, 0x04, 2 ** 40, new Uint8Array(50).fill(9)), // its EOS page last, a huge granule
  ];
  const muxed = concatAll([
    vorbis[0],
    cover[0],
    ...vorbis.slice(1, 3),
    cover[1],
    ...vorbis.slice(3),
    cover[2],
  ]);
  const theoraFirst = concatAll([
    cover[0],
    vorbis[0],
    ...vorbis.slice(1, 3),
    cover[1],
    ...vorbis.slice(3),
    cover[2],
  ]);
  const plain = await decodeAudioBytes(ogg, "plain.ogg");
  assert.equal(detectFormat(theoraFirst), "ogg-vorbis");
  for (const [name, bytes] of [["theora_first.ogg", theoraFirst], ["vorbis_first.ogg", muxed]] as const) {
    const d = await decodeAudioBytes(bytes, name);
    assert.equal(d.format, "ogg-vorbis", name);
    assert.equal(d.sampleRate, 22050);
    assert.equal(d.channels[0].length, plain.channels[0].length, name);
    assert.deepEqual(d.channels[0], plain.channels[0], name);
  }
});

const concatAll = concat;
