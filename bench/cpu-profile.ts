// Summaries of V8 CPU profiles (`node --cpu-prof`): self time per function and per package, so a
// missed target can be explained by where the operator's CPU went.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  total_ms: number;
  /** heaviest functions by self time */
  functions: { name: string; self_ms: number; pct: number }[];
  /** self time grouped by package (node_modules/<pkg>) or repository folder */
  packages: { name: string; self_ms: number; pct: number }[];
}

function where(url: string): string {
  if (url === "") return "(native/idle)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm !== null) return nm[1] ?? url;
  if (url.startsWith("node:")) return "node:internal";
  const repo = /\/(src\/[^/]+|bench|bin)\//.exec(url);
  return repo?.[1] ?? url;
}

function top(
  map: Map<string, number>,
  total: number,
  n: number,
): { name: string; self_ms: number; pct: number }[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({
      name,
      self_ms: Math.round(us / 100) / 10,
      pct: Math.round((us / total) * 1000) / 10,
    }));
}

export function summarizeProfile(file: string, n = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)?.callFrame;
    if (f === undefined || f.functionName === "(idle)" || f.functionName === "(program)") continue;
    total += us;
    const file = f.url.split("/").slice(-2).join("/");
    const fn = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    const pkg = f.functionName === "(garbage collector)" ? "(garbage collector)" : where(f.url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  return {
    file,
    total_ms: Math.round(total / 1000),
    functions: top(fns, total, n),
    packages: top(pkgs, total, n),
  };
}

/** Summaries of every .cpuprofile in `dir` whose name starts with `prefix`. */
export function summarizeDir(dir: string, prefix = ""): ProfileSummary[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith(".cpuprofile"))
    .map((f) => summarizeProfile(join(dir, f)));
}
