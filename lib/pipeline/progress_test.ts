import { assert } from "../../tests/helpers.ts";
import { Progress } from "./progress.ts";

Deno.test("progress: the current file and how far into it, rate, audio rate and ETA", () => {
  let now = 0;
  const lines: string[] = [];
  const p = new Progress({ total: 4, write: (l) => lines.push(l), inPlace: false, now: () => now });
  p.start("/music/a/first song.mp3", 180);
  assert.equal(lines.length, 0, "a log gets no line when a file starts");
  now = 5_000;
  p.update(0.5);
  assert.equal(lines.length, 0, "nor within 10 s");
  now = 12_000;
  p.update(0.8);
  assert.equal(lines.at(-1), "[0/4] · first song.mp3 80% of 3m00s · 0.00 files/s · 0.0 s of audio/s · ETA ?");
  now = 20_000;
  p.finish(180);
  // 1 file in 20 s: 0.05 files/s, 9 s of audio per second, 3 files left → 60 s
  assert.equal(lines.at(-1), "[1/4] · 0.05 files/s · 9.0 s of audio/s · ETA 1m00s");
  p.start("b.wav", 30);
  now = 25_000;
  p.finish(30);
  assert.equal(lines.length, 3, "one line per finished file in a log");
});

Deno.test("progress: on a terminal the line is redrawn at most ten times a second", () => {
  let now = 0;
  const lines: string[] = [];
  const p = new Progress({ total: 2, write: (l) => lines.push(l), inPlace: true, now: () => now });
  p.start("a.wav", 10);
  for (let i = 1; i <= 100; i++) {
    now = i * 10; // 1 s in 10 ms steps
    p.update(i / 100);
  }
  assert.ok(lines.length >= 9 && lines.length <= 11, `${lines.length} redraws in one second`);
});
