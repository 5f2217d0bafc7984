import assert from "node:assert/strict";
import { PAGE_FILES, PAGE_MODULES } from "./static_files.ts";

const STATIC = new URL("../static/", import.meta.url);

Deno.test("the page's modules: every script in static/ is served, every import is one of them, no cycle", async () => {
  const onDisk = [...Deno.readDirSync(STATIC)].map((e) => e.name).filter((n) => n.endsWith(".js")).sort();
  assert.deepEqual([...PAGE_MODULES].sort(), onDisk, "served = on disk");
  const imports = new Map<string, string[]>();
  for (const m of PAGE_MODULES) {
    const text = await Deno.readTextFile(new URL(m, STATIC));
    const named = [...text.matchAll(/^import (?:[^"]* from )?"\.\/([^"]+)";$/gm)].map((x) => x[1]);
    for (const n of named) assert.ok(PAGE_MODULES.includes(n), `${m} imports ${n}, which is not served`);
    imports.set(m, named);
    assert.ok(PAGE_FILES[`/${m}`], m);
  }
  // a cycle would make one module read another's bindings before they are set
  const state = new Map<string, "visiting" | "done">();
  const visit = (m: string, path: string[]) => {
    if (state.get(m) === "done") return;
    assert.notEqual(state.get(m), "visiting", `an import cycle: ${[...path, m].join(" → ")}`);
    state.set(m, "visiting");
    for (const n of imports.get(m)!) visit(n, [...path, m]);
    state.set(m, "done");
  };
  visit("app.js", []);
  assert.deepEqual([...state.keys()].sort(), [...PAGE_MODULES].sort(), "app.js reaches every module");
});
