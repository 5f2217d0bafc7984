import { assert } from "../../tests/helpers.ts";
import { ADSR, adsrEnvelope, meanOfSines, synthesize, TEST_SOUNDS } from "./synthetic_set.ts";

Deno.test("test_set: ADSR envelope has linear segments at the stated fractions", () => {
  const n = 1000;
  const env = adsrEnvelope(n);
  assert.equal(env.length, n);
  assert.equal(env[0], 0);
  assert.equal(env[99], 1); // end of the attack (100 samples, endpoint included)
  assert.equal(env[100], 1); // start of the decay
  assert.ok(Math.abs(env[199] - ADSR.sustain) < 1e-12);
  assert.equal(env[500], ADSR.sustain);
  assert.ok(Math.abs(env[800] - ADSR.sustain) < 1e-12);
  assert.equal(env[n - 1], 0);
  assert.ok(Math.abs(env[50] - 50 / 99) < 1e-12, "attack is linear");
});

Deno.test("test_set: a chord is the mean of its sines", () => {
  const x = meanOfSines([100, 200], 1000, 10);
  for (let i = 0; i < 10; i++) {
    const e = (Math.sin(2 * Math.PI * 100 * i / 1000) + Math.sin(2 * Math.PI * 200 * i / 1000)) / 2;
    assert.ok(Math.abs(x[i] - e) < 1e-12);
  }
});

Deno.test("test_set: eight sounds as in the original, all within [-1, 1]", () => {
  assert.deepEqual(TEST_SOUNDS.map((s) => s.name), [
    "c_major_chord",
    "g_major_chord",
    "f_major_chord",
    "bass_sound",
    "bell_sound",
    "complex_harmonic",
    "white_noise",
    "pink_noise",
  ]);
  for (const spec of TEST_SOUNDS) {
    const x = synthesize(spec, 8000, 1, 42);
    assert.equal(x.length, 8000);
    assert.ok(x.every((v) => Math.abs(v) <= 1), spec.name);
  }
});
