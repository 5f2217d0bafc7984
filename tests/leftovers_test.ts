/**
 * Nothing is left behind in the temp folder: not by two embed runs (no
 * per-run driver folder, no onnxruntime debug log; onnxruntime's own
 * `.ses` session-id file is one file, reused), not by serve stopped
 * with SIGTERM in the middle of an upload (its upload folder is removed).
 * Each child gets a temp folder of its own (TMPDIR) to look in.
 */
import { join } from "node:path";
import { assert, slowTest } from "./helpers.ts";
import { explorerFixture } from "./explorer_fixture.ts";
import { encodeWav } from "../lib/audio/wav.ts";

const repo = new URL("..", import.meta.url).pathname;

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

slowTest(
  "two embed runs leave nothing in the temp folder but one private driver folder at most",
  async () => {
    const fx = await explorerFixture("openl3-leftovers-");
    const tmp = await Deno.makeTempDir({ prefix: "openl3-leftovers-tmp-" });
    try {
      const wav = join(fx.root, "one.wav");
      await Deno.writeFile(
        wav,
        encodeWav([Float32Array.from({ length: 16000 }, (_, i) => Math.sin(i / 7))], 16000),
      );
      for (let run = 0; run < 2; run++) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            join(repo, "embed.ts"),
            wav,
            "--db",
            join(fx.root, "l.db"),
            "--weights",
            fx.weights,
            "--models-dir",
            fx.modelsDir,
            "--backend",
            "native",
            "--hop",
            "0.5",
            "--quiet",
            "--force",
          ],
          env: { TMPDIR: tmp },
          stdout: "null",
          stderr: "piped",
        }).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      }
      const left = entries(tmp);
      assert.deepEqual(left.filter((n) => /^mat-debug-/.test(n)), [], "no onnxruntime debug log");
      assert.ok(left.filter((n) => /^openl3-xdg-/.test(n)).length <= 1, left.join(", "));
      // one private driver folder and onnxruntime's own session-id file, reused by every run
      assert.deepEqual(left.filter((n) => !/^openl3-xdg-\d+$|^\.ses$/.test(n)), [], left.join(", "));
    } finally {
      await Deno.remove(tmp, { recursive: true });
      await Deno.remove(fx.root, { recursive: true });
    }
  },
);

slowTest("serve stopped by SIGTERM during an upload removes the upload's folder", async () => {
  const fx = await explorerFixture("openl3-leftovers-");
  const tmp = await Deno.makeTempDir({ prefix: "openl3-leftovers-tmp-" });
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(repo, "serve.ts"),
      "--db",
      fx.db,
      "--port",
      String(port),
      "--weights",
      fx.weights,
      "--models-dir",
      fx.modelsDir,
      "--backend",
      "native",
      "--device",
      "cpu",
    ],
    env: { TMPDIR: tmp },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const errors = server.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let log = "";
    while (!log.includes(`:${port}/`)) {
      const { value, done } = await errors.read();
      if (done) throw new Error(`serve ended: ${log}`);
      log += value;
    }
    // an upload that sends a little and then waits: its folder exists while it is received
    let push: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
    push!.enqueue(new Uint8Array(1024));
    const upload = fetch(`http://127.0.0.1:${port}/api/embed`, {
      method: "POST",
      headers: { "x-filename": "slow.wav" },
      body,
      // @ts-ignore: Deno's fetch streams a request body with duplex "half"
      duplex: "half",
    }).catch(() => null);
    const until = Date.now() + 30_000;
    while (!entries(tmp).some((n) => n.startsWith("openl3-upload-"))) {
      if (Date.now() > until) throw new Error(`no upload folder in ${entries(tmp).join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    server.kill("SIGTERM");
    const status = await server.status;
    assert.equal(status.code, 0);
    try {
      push!.close();
    } catch { /* the server closed it */ }
    await upload;
    assert.deepEqual(entries(tmp).filter((n) => !/^openl3-xdg-\d+$|^\.ses$/.test(n)), [], "nothing left");
  } finally {
    try {
      server.kill("SIGKILL");
    } catch { /* ended */ }
    await errors.cancel().catch(() => {});
    await Deno.remove(tmp, { recursive: true });
    await Deno.remove(fx.root, { recursive: true });
  }
});
