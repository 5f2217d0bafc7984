/**
 * The house rules of `lib/`: every module lives in a room (folder) on a
 * floor, and imports only from its own room or from rooms on lower floors;
 * nothing in `lib/` imports a top-level script.
 */
import { dirname, join, relative, resolve } from "node:path";
import { assert } from "./helpers.ts";

/** Floors, lowest first. A room may import from its own room and from any room on a lower floor. */
export const FLOORS: string[][] = [
  ["util"],
  ["audio", "gpu", "player"],
  ["frontend"],
  ["model"],
  ["store"],
  ["pipeline", "analysis"],
  ["playlist"],
  ["server"],
];

const lib = new URL("../lib/", import.meta.url).pathname;

function* modules(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* modules(p);
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield p;
  }
}

Deno.test("lib/: every room is on a floor, and no module imports upward or from a script", () => {
  const floorOf = new Map(FLOORS.flatMap((rooms, f) => rooms.map((r) => [r, f] as const)));
  const problems: string[] = [];
  let imports = 0;
  for (const file of modules(lib)) {
    const room = relative(lib, file).split("/")[0];
    if (!floorOf.has(room)) problems.push(`${relative(lib, file)}: room "${room}" is on no floor`);
    const code = Deno.readTextFileSync(file);
    // static and dynamic imports and re-exports; JSDoc examples are left out
    const body = code.replace(/\/\*\*[\s\S]*?\*\//g, "");
    for (const m of body.matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)"/g)) {
      imports++;
      const target = resolve(dirname(file), m[1]);
      const rel = relative(lib, target);
      if (rel.startsWith("..")) {
        problems.push(`${relative(lib, file)} imports ${m[1]}, outside lib/`);
        continue;
      }
      const to = rel.split("/")[0];
      if (to === room) continue;
      if (!(floorOf.get(to)! < floorOf.get(room)!)) {
        problems.push(`${relative(lib, file)} (${room}) imports ${rel} (${to}): not a lower floor`);
      }
    }
  }
  assert.ok(imports > 100, `found only ${imports} imports: the scan is broken`);
  assert.deepEqual(problems, []);
});

Deno.test("lib/: no import cycles, type imports included", () => {
  const graph = new Map<string, string[]>();
  for (const file of modules(lib)) {
    const body = Deno.readTextFileSync(file).replace(/\/\*\*[\s\S]*?\*\//g, "");
    const deps = [...body.matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+\.ts)"/g)].map((m) =>
      resolve(dirname(file), m[1])
    );
    graph.set(file, deps.filter((d) => d.startsWith(lib) && !d.endsWith("_test.ts")));
  }
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(lib, p)).join(" → "));
      return;
    }
    state.set(f, "open");
    for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, "done");
  };
  for (const f of graph.keys()) visit(f, []);
  assert.ok(graph.size > 100, `only ${graph.size} modules: the scan is broken`);
  assert.deepEqual(cycles, []);
});
