/**
 * Small assertion helpers for the tests (JSR's `@std/assert` is not reachable
 * here; `node:assert` covers the rest).
 *
 * @module
 */

import assert from "node:assert/strict";

export { assert };

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** max |a − b| over max |b|: the figure OpenL3's tolerance speaks of. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

/** Assert |a - b| ≤ tol element-wise, naming the worst element. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what = "values",
): void {
  assert.equal(actual.length, expected.length, `${what}: lengths differ`);
  let worst = 0, at = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(
    worst <= tol,
    `${what}: max |diff| ${worst} at [${at}] (${actual[at]} vs ${expected[at]}) exceeds ${tol}`,
  );
}

/** Assert that `fn` rejects/throws an error of class `C` whose message matches `pattern`. */
export async function assertRejects(
  fn: () => unknown,
  C: new (...args: never[]) => Error,
  pattern?: RegExp,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof C, `expected ${C.name}, got ${(e as Error)?.constructor?.name}: ${e}`);
    if (pattern) assert.match((e as Error).message, pattern);
    return e as Error;
  }
  throw new assert.AssertionError({ message: `expected ${C.name} to be thrown` });
}

/** Path of a file in tests/fixtures. */
export function fixture(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).pathname;
}

/** A sine `amp · sin(2π f n / sr)` of `n` samples, in float64. */
export function sine(freq: number, sr: number, n: number, amp = 1): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => amp * Math.sin(2 * Math.PI * freq * i / sr));
}

/**
 * Frequency (Hz) of the largest DFT magnitude of `x`, searched on a 1 Hz grid
 * between `lo` and `hi` (a direct DFT: slow but free of any FFT code under test).
 */
export function peakFrequency(x: ArrayLike<number>, sr: number, lo: number, hi: number): number {
  let best = -1, bestF = lo;
  for (let f = lo; f <= hi; f++) {
    const w = 2 * Math.PI * f / sr;
    let re = 0, im = 0;
    for (let n = 0; n < x.length; n++) {
      re += x[n] * Math.cos(w * n);
      im -= x[n] * Math.sin(w * n);
    }
    const m = re * re + im * im;
    if (m > best) {
      best = m;
      bestF = f;
    }
  }
  return bestF;
}

/**
 * A test that takes seconds (child processes, the full-size network): run by
 * `deno task test` (and CI), left out by `deno task test-quick`, which sets
 * OPENL3_QUICK=1 — reported there as ignored, never as passed.
 */
export function slowTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: Deno.env.get("OPENL3_QUICK") === "1", fn });
}

/**
 * The largest dB difference between a patch and a reference in each level band, at every level down to
 * the −80 dB floor (not only the loud bins: the quiet half is where float32 arithmetic goes wrong).
 */
export function worstByLevel(
  patch: ArrayLike<number>,
  ref: ArrayLike<number>,
): { worst: number; bands: string } {
  const edges = [-80.1, -60, -40, -20, 0.1];
  const worst = [0, 0, 0, 0], count = [0, 0, 0, 0];
  for (let i = 0; i < ref.length; i++) {
    const b = edges.findIndex((e, k) => k > 0 && ref[i] < e) - 1;
    worst[b] = Math.max(worst[b], Math.abs(patch[i] - ref[i]));
    count[b]++;
  }
  return {
    worst: Math.max(...worst),
    bands: worst.map((w, k) =>
      `[${edges[k].toFixed(0)},${edges[k + 1].toFixed(0)}) ${w.toExponential(1)} (${count[k]} bins)`
    )
      .join(", "),
  };
}

/** The vector index of a database, as the commands load it (read-only, through its cache). */
export async function loadIndexOf(
  db: string,
): Promise<import("../lib/analysis/vector_index.ts").LoadedIndex> {
  const { openStore } = await import("../lib/store/store.ts");
  const { loadIndex } = await import("../lib/analysis/vector_index.ts");
  const store = await openStore(db, { readOnly: true });
  try {
    return await loadIndex(store);
  } finally {
    await store.close();
  }
}

/** A `deno task …` command line as a person types it (the task's own permissions), from the project's root. */
export async function denoTask(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: options.cwd ?? new URL("..", import.meta.url).pathname,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}
