import assert from "node:assert/strict";
import { MAX_RANGE, MIN_RANGE_WIDTH, parseCalibration } from "./calibration.ts";
import { CALIBRATION_VERSION } from "./int8_graph.ts";

const relu = { min: 0, max: 9.5 };
const sound = {
  version: CALIBRATION_VERSION,
  method: "percentile",
  percentile: 99.999,
  windows: 77,
  input: { min: -2.1, max: 1.9 },
  ranges: [relu, relu, relu, relu, relu, relu, relu, { min: -20, max: 19 }],
};

Deno.test("parseCalibration: a measured calibration is read back as it was written", () => {
  assert.deepEqual(parseCalibration(JSON.stringify(sound)), sound);
});

Deno.test("parseCalibration: every poisoned range is named, never used", () => {
  const cases: [string, (c: typeof sound) => void, string][] = [
    [
      "1e30 everywhere",
      (c) => c.ranges.forEach((r) => r.max = 1e30),
      "range 1 is [0, 1e+30]: not an activation range",
    ],
    [
      "±1e38 at the end",
      (c) => c.ranges[7] = { min: -1e38, max: 1e38 },
      "range 8 is [-1e+38, 1e+38]: not an activation range",
    ],
    [
      "±1e308 input",
      (c) => c.input = { min: -1e308, max: 1e308 },
      "the input range is [-1e+308, 1e+308]: not an activation range",
    ],
    ["tiny", (c) => c.ranges[2] = { min: 0, max: 1e-9 }, "range 3 is [0, 1e-9]: not an activation range"],
    ["negative", (c) => c.ranges[4] = { min: 0, max: -3 }, "range 5 is [0, -3]: not an activation range"],
    [
      "a ReLU range below 0",
      (c) => c.ranges[1] = { min: -1, max: 5 },
      "range 2 is [-1, 5]: not an activation range",
    ],
    ["NaN (null in JSON)", (c) => c.ranges[6] = { min: 0, max: NaN }, "range 7 is not two finite numbers"],
    [
      "a string",
      (c) => (c.ranges[0] as unknown as { max: string }).max = "9",
      "range 1 is not two finite numbers",
    ],
    ["7 ranges", (c) => c.ranges.pop(), "not 8 ranges"],
    [
      "another version",
      (c) => c.version = CALIBRATION_VERSION + 1,
      `version ${CALIBRATION_VERSION + 1}, not ${CALIBRATION_VERSION}`,
    ],
    ["no windows", (c) => c.windows = 0, "windows 0"],
  ];
  for (const [what, poison, problem] of cases) {
    const c = structuredClone(sound);
    poison(c);
    assert.equal(parseCalibration(JSON.stringify(c)), problem, what);
  }
  assert.match(parseCalibration("{") as string, /^not JSON/);
  assert.equal(parseCalibration("null"), "not a calibration");
});

Deno.test("parseCalibration: the limits are inclusive where a real network could reach them", () => {
  const edge = structuredClone(sound);
  edge.ranges[7] = { min: -MAX_RANGE, max: MAX_RANGE };
  edge.ranges[0] = { min: 0, max: MIN_RANGE_WIDTH };
  assert.equal(typeof parseCalibration(JSON.stringify(edge)), "object");
});
