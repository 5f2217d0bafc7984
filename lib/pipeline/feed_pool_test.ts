import { assert } from "../../tests/helpers.ts";
import { encodeWav } from "../audio/wav.ts";
import { AudioDecodeError } from "../util/errors.ts";
import { type FeedBatch, FileFeed, type FileFeedOptions } from "./file_feed.ts";
import { FeedPool } from "./feed_pool.ts";

const dir = await Deno.makeTempDir({ prefix: "openl3-feed-" });
const options: FileFeedOptions = {
  hopSize: 0.25,
  center: true,
  batchSize: 3,
  maxDuration: 3600,
  repr: "mel128",
};

function tone(freq: number, seconds: number, sr: number, channels = 1): Float32Array[] {
  return Array.from(
    { length: channels },
    (_, c) =>
      Float32Array.from(
        { length: Math.round(sr * seconds) },
        (_, i) => 0.3 * Math.sin(2 * Math.PI * (freq + c) * i / sr),
      ),
  );
}

const files: string[] = [];
for (
  const [i, sr, seconds, ch] of [[0, 16000, 1.3, 1], [1, 44100, 2.1, 2], [2, 22050, 0.4, 1], [
    3,
    48000,
    1.7,
    2,
  ]]
) {
  files.push(`${dir}/f${i}.wav`);
  await Deno.writeFile(files.at(-1)!, encodeWav(tone(200 + 100 * i, seconds, sr, ch), sr));
}
const bad = `${dir}/bad.wav`;
await Deno.writeFile(bad, new TextEncoder().encode("RIFF\0\0\0\0WAVEjunk"));

async function inThread(path: string): Promise<FeedBatch[]> {
  const feed = await FileFeed.open(path, options);
  const out: FeedBatch[] = [];
  for (let b; (b = await feed.next()) !== null;) out.push(b);
  feed.close();
  return out;
}

Deno.test("feed: two workers deliver every file's batches in order, equal to the feed in this thread; errors keep their class", async () => {
  const pool = new FeedPool({ ...options, workers: 2 }, () => true);
  try {
    const all = [...files, bad];
    const jobs = all.map((f, i) => pool.submit(i, f));
    for (let i = 0; i < files.length; i++) {
      const job = jobs[i];
      assert.equal((await job.hashed()).size, (await Deno.stat(files[i])).size);
      assert.equal(await job.decision(), true);
      const { info } = await job.info();
      assert.equal(info.format, "wav");
      const expected = await inThread(files[i]);
      const got: FeedBatch[] = [];
      for (let b; (b = await job.next()) !== null;) got.push(b);
      assert.equal(got.length, expected.length, files[i]);
      got.forEach((b, k) => {
        assert.equal(b.start, expected[k].start);
        assert.deepEqual(b.patches, expected[k].patches, `${files[i]} batch ${k}`);
        assert.deepEqual(b.timestamps, expected[k].timestamps);
      });
      assert.equal(job.result!.windows, got.reduce((s, b) => s + b.count, 0));
    }
    const last = jobs.at(-1)!;
    await last.hashed();
    const e = await last.info().then(() => null, (e) => e);
    assert.ok(e instanceof AudioDecodeError, String(e));
    assert.ok(e.message.startsWith(bad));
  } finally {
    pool.close();
  }
});

Deno.test("feed: a file decided against after its hash is never opened", async () => {
  // the garbage file would fail if it were decoded: decided against, it just ends
  for (const workers of [0, 1]) {
    const pool = new FeedPool({ ...options, workers }, (id) => id !== 1);
    try {
      const a = pool.submit(0, files[0]), b = pool.submit(1, bad);
      await a.hashed();
      assert.equal(await a.decision(), true);
      await b.hashed();
      assert.equal(await b.decision(), false);
      await a.info();
      while (await a.next() !== null);
      assert.equal(b.buffered, 0);
    } finally {
      pool.close();
    }
  }
});

Deno.test("feed: a file runs ahead of the network by its credits only (back-pressure)", async () => {
  const long = `${dir}/long.wav`;
  await Deno.writeFile(long, encodeWav(tone(300, 30, 16000), 16000)); // 120 windows, 40 batches
  for (const workers of [0, 1]) {
    const pool = new FeedPool({ ...options, workers, credits: 2 }, () => true);
    try {
      const job = pool.submit(0, long);
      await job.info();
      // wait for the state checked (a busy machine may take long to fill the credits), then give the feed
      // time to overrun them if it were going to
      for (const deadline = Date.now() + 60_000; job.buffered < 2 && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(job.buffered, 2, `workers ${workers}: two batches waiting`);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(job.buffered, 2, `workers ${workers}: no more than its credits`);
      let n = 0;
      while (await job.next() !== null) n++;
      assert.equal(n, 40);
    } finally {
      pool.close();
    }
  }
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
