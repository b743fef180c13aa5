// The layers of src/ (docs/architecture.md draws the same table): each folder names the folders it
// may import, so an arrow back up, an import cycle between files, or a reach outside src/ (the
// image's bundle is built from src/ alone) fails here. A new folder must be added to LAYERS,
// which says where it sits.
import { describe, expect, test } from "@jest/globals";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));

const BASE = ["api", "core", "runtime"];
// notify sits below the operator: reconcilers hand it events and never wait for it.
const OPERATOR_BASE = [...BASE, "kube", "azure", "notify", "operator/state"];
/** Folder (src/<top>, or src/operator/<sub>) -> the folders it may import besides itself. */
export const LAYERS: Record<string, readonly string[]> = {
  api: [],
  core: ["api"],
  runtime: ["api", "core"],
  kube: BASE,
  azure: BASE,
  "operator/state": [...BASE, "kube", "azure"],
  "operator/scope": OPERATOR_BASE,
  "operator/guard": OPERATOR_BASE,
  "operator/startup": OPERATOR_BASE,
  "operator/approval": OPERATOR_BASE,
  "operator/nsg": OPERATOR_BASE,
  "operator/request": [...OPERATOR_BASE, "operator/approval", "operator/guard"],
  "operator/policy": [...OPERATOR_BASE, "operator/scope"],
  // Sharded leadership shares the leader's exit reason (a lost Lease exits 1 either way).
  "operator/shard": [...OPERATOR_BASE, "operator/startup"],
  operator: [
    ...OPERATOR_BASE,
    ...["scope", "guard", "startup", "approval", "nsg", "request", "policy", "shard"].map(
      (s) => `operator/${s}`,
    ),
  ],
  sweep: [...BASE, "kube", "azure"],
  // plan reuses the operator's binding index and target resolution rather than copying them.
  gitops: [...BASE, "kube", "azure", "operator/state", "operator/policy"],
  notify: [...BASE, "kube"],
  emulator: BASE,
  controlplane: BASE,
  helm: BASE,
  demo: [...BASE, "kube", "controlplane", "emulator", "helm"],
  // The dispatcher loads each command on demand.
  cli: [...BASE, "kube", "azure", "operator", "sweep", "emulator", "controlplane", "demo", "helm", "gitops"],
};

/** The layer a file of src/ belongs to: src/operator/<sub>/... is operator/<sub>. */
export function layerOf(file: string): string {
  const parts = file.split("/");
  if (parts[1] === "operator" && parts.length > 3) return `operator/${parts[2]}`;
  return parts[1] ?? file;
}

/** Relative import specifiers of a module, type-only ones included (they too say what depends on what). */
export function relativeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of code.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)["'](\.[^"']+)["']/gm))
    if (m[1] !== undefined) out.push(m[1]);
  return out;
}

export type Graph = Map<string, string[]>;

/** Imports that leave src/ or go to a layer their own layer may not import. */
export function violations(graph: Graph, layers: Record<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const own = layerOf(from);
    const allowed = layers[own];
    if (allowed === undefined) {
      out.push(`${from}: folder ${own} is not in LAYERS (say what it may import)`);
      continue;
    }
    for (const to of targets) {
      if (!to.startsWith("src/"))
        out.push(`${from} -> ${to}: outside src/, which is all the image is built from`);
      else if (layerOf(to) !== own && !allowed.includes(layerOf(to)))
        out.push(`${from} -> ${to}: ${own} may not import ${layerOf(to)}`);
    }
  }
  return out;
}

/** Strongly connected components of more than one file (Tarjan). */
export function cycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

function srcGraph(): Graph {
  const graph: Graph = new Map();
  for (const file of sources("src")) {
    const specs = relativeImports(readFileSync(join(root, file), "utf8"));
    graph.set(
      file,
      specs.map((s) => relative(root, normalize(join(root, dirname(file), s)))),
    );
  }
  return graph;
}

describe("import layers of src/", () => {
  const graph = srcGraph();

  test("the graph is read (every layer has files and imports are found)", () => {
    expect(graph.size).toBeGreaterThan(150);
    const layers = new Set([...graph.keys()].map(layerOf));
    for (const l of ["api", "core", "runtime", "kube", "azure", "operator", "operator/nsg"])
      expect(layers).toContain(l);
    expect(graph.get("src/operator/nsg/reconciler.ts")).toContain("src/core/index.ts");
  });

  test("no layer imports upward or outside src/", () => {
    expect(violations(graph, LAYERS)).toEqual([]);
  });

  test("no import cycle between files", () => {
    expect(cycles(graph)).toEqual([]);
  });

  test("the checks catch an upward import, a reach outside src/ and a cycle", () => {
    const bad: Graph = new Map([
      ["src/core/a.ts", ["src/operator/controller.ts"]],
      ["src/cli/main.ts", ["bench/cli.ts"]],
      ["src/runtime/queue.ts", ["src/runtime/metrics.ts"]],
      ["src/runtime/metrics.ts", ["src/runtime/queue.ts"]],
      ["src/newthing/x.ts", []],
    ]);
    expect(violations(bad, LAYERS)).toEqual([
      "src/core/a.ts -> src/operator/controller.ts: core may not import operator",
      "src/cli/main.ts -> bench/cli.ts: outside src/, which is all the image is built from",
      "src/newthing/x.ts: folder newthing is not in LAYERS (say what it may import)",
    ]);
    expect(cycles(bad)).toEqual([["src/runtime/metrics.ts", "src/runtime/queue.ts"]]);
  });
});
