/**
 * The README names what is there: every file path it mentions exists, every
 * picture it shows is committed (not just present on the machine that made
 * it), and every top-level script is in its layout.
 */
import { assert } from "./helpers.ts";

const repo = new URL("..", import.meta.url).pathname;
const readme = await Deno.readTextFile(`${repo}/README.md`);

Deno.test("README: every path it names exists", () => {
  const paths = new Set(
    readme.match(/\b(?:lib|tests|bench|tools|docs)\/[\w./-]+\.(?:ts|md|png|sh|js)\b/g) ?? [],
  );
  assert.ok(paths.size > 10);
  assert.deepEqual([...paths].filter((p) => !exists(p)), []);
});

function exists(p: string): boolean {
  try {
    Deno.statSync(`${repo}/${p}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test("README: every picture it shows is committed", async () => {
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
  assert.ok(images.length >= 1);
  const out = await new Deno.Command("git", {
    args: ["ls-files", "--", ...images],
    cwd: repo,
    stdout: "piped",
  })
    .output();
  const tracked = new Set(new TextDecoder().decode(out.stdout).trim().split("\n"));
  assert.deepEqual(
    images.filter((i) => !tracked.has(i)),
    [],
    "pictures the README shows but git does not hold",
  );
});

Deno.test("README: every top-level script is in its layout (docs/layout.md)", async () => {
  const layout = await Deno.readTextFile(`${repo}/docs/layout.md`);
  const scripts = [...Deno.readDirSync(repo)].filter((e) => e.isFile && e.name.endsWith(".ts")).map((e) =>
    e.name
  );
  assert.deepEqual(scripts.filter((s) => !layout.includes(s)), []);
});

Deno.test("deno.json: the test task type-checks each file once (deno check --doc, then deno test --no-check)", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${repo}/deno.json`)).tasks as Record<string, string>;
  assert.match(tasks.test, /deno check (--quiet )?--doc \./);
  assert.match(tasks.test, /deno test [^&]*--no-check/);
  assert.match(tasks["test-quick"], /deno test [^&]*--no-check/);
});

Deno.test("deno.json: the library's name, version (the tool's) and exports (mod.ts, browser.ts)", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${repo}/deno.json`));
  const { TOOL_VERSION } = await import("../lib/util/version.ts");
  assert.equal(config.version, TOOL_VERSION);
  assert.deepEqual(config.exports, { ".": "./mod.ts", "./browser": "./browser.ts" });
  assert.match(config.name, /^@[a-z0-9-]+\/[a-z0-9-]+$/);
  assert.ok(exists("mod.ts") && exists("browser.ts"));
});
