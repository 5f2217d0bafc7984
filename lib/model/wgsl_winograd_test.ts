/**
 * The fused Winograd kernel of the WGSL engine (on this machine's adapter: llvmpipe) against the naive
 * float64 network and the engine's direct kernel: odd map widths (the edge tiles), several windows, channel
 * counts in fours that are not multiples of the workgroup's 64, and the published widths.
 */
import { assert, relativeError, slowTest } from "../../tests/helpers.ts";
import { naiveOpenL3 } from "../../tests/naive_openl3.ts";
import { openl3Architecture } from "./architecture.ts";
import { randomWeights } from "./random_weights.ts";
import { probePatches } from "./inference.ts";
import { openDevice, requestAdapter } from "../gpu/device.ts";
import { WgslNetwork } from "./wgsl_network.ts";
import { WINOGRAD, winogradFilters, winogradTile } from "./winograd.ts";

const adapter = await requestAdapter();
const noGpu = adapter ? "" : " (SKIPPED: no WebGPU adapter on this machine)";

Deno.test("winogradFilters (hwio): the filters G g Gᵀ of a Keras kernel, in the layout the WGSL kernel reads", () => {
  const inC = 2, outC = 3;
  const kernel = Float32Array.from({ length: 9 * inC * outC }, (_, i) => Math.sin(i + 1));
  const u = winogradFilters(WINOGRAD[2], kernel, inC, outC, "hwio");
  // a tile through winogradTile with the same filter: one input position at a time isolates U
  const f = WINOGRAD[2];
  for (const [c, n] of [[0, 0], [1, 2]]) {
    const g = [0, 1, 2].map((r) => [0, 1, 2].map((s) => kernel[((r * 3 + s) * inC + c) * outC + n]));
    const G = f.g;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let want = 0;
        for (let r = 0; r < 3; r++) for (let s = 0; s < 3; s++) want += G[i][r] * g[r][s] * G[j][s];
        assert.ok(Math.abs(u[((i * 4 + j) * inC + c) * outC + n] - want) < 1e-6);
      }
    }
    // and the whole transform still computes the correlation
    const d = [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((q) => Math.cos(r * 4 + q)));
    const y = winogradTile(f, d, g);
    const direct = d[0][0] * g[0][0] + d[0][1] * g[0][1] + d[0][2] * g[0][2] + d[1][0] * g[1][0] +
      d[1][1] * g[1][1] + d[1][2] * g[1][2] + d[2][0] * g[2][0] + d[2][1] * g[2][1] + d[2][2] * g[2][2];
    assert.ok(Math.abs(y[0][0] - direct) < 1e-12);
  }
});

Deno.test({
  name:
    `WGSL Winograd F(2×2): reduced widths, mel128 (odd width), 3 windows, within 1e-4 of the naive network${noGpu}`,
  ignore: !adapter,
  async fn() {
    const gpu = await openDevice(adapter!);
    try {
      const arch = openl3Architecture("mel128", 512, [4, 12, 20, 68]); // 68 outputs: a partial workgroup
      const w = randomWeights(arch, 13);
      const p = probePatches(3, ...arch.input, 4);
      const wino = WgslNetwork.create(gpu, w, 3, { winograd: true });
      const direct = WgslNetwork.create(gpu, w, 3);
      const a = await wino.run(p, 3), b = await direct.run(p, 3);
      const size = arch.outputSize;
      for (let k = 0; k < 3; k++) {
        const ref = naiveOpenL3(p.subarray(k * 128 * 199, (k + 1) * 128 * 199), w);
        const mine = a.subarray(k * size, (k + 1) * size);
        const rel = relativeError(mine, ref);
        assert.ok(rel <= 1e-4, `window ${k}: ${rel.toExponential(2)} relative`);
        assert.ok(relativeError(mine, b.subarray(k * size, (k + 1) * size)) <= 1e-4, "as the direct kernel");
      }
      wino.destroy();
      direct.destroy();
    } finally {
      gpu.device.destroy();
    }
  },
});

slowTest(
  `WGSL Winograd F(2×2), published widths, mel256 512: within 1e-4 of the naive network${noGpu}`,
  async () => {
    if (!adapter) return;
    const gpu = await openDevice(adapter);
    try {
      const arch = openl3Architecture("mel256", 512);
      const w = randomWeights(arch, 7);
      const p = probePatches(1, ...arch.input, 3);
      const net = WgslNetwork.create(gpu, w, 1, { winograd: true });
      const rel = relativeError(await net.run(p, 1), naiveOpenL3(p, w));
      net.destroy();
      assert.ok(rel <= 1e-4, `${rel.toExponential(2)} relative`);
    } finally {
      gpu.device.destroy();
    }
  },
);
