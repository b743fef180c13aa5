// The operator's memory floor: RSS after loading its code, before any object exists. Explains how
// much of the operator's RSS is code rather than state. Two views:
// - steps: a fresh Node (running this TypeScript file, so with Node's type stripper loaded) imports
//   each dependency in turn, then the operator's sources;
// - processes: `drawbridge run --help` as a whole process, from the sources (bin/drawbridge.js) and
//   from the image's bundle (dist/drawbridge.js), with the operator's NODE_OPTIONS. `run --help`
//   loads all of the operator's code (every static import of its command) and exits; the figure is
//   taken at exit. These are what the operator starts from.
// Run: `node bench/memory-floor.ts` (prints JSON); the resync scenario runs it in a child process.
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { OPERATOR_NODE_OPTIONS } from "../src/runtime/node-options.ts";

export interface FloorStep {
  step: string;
  rss_mib: number;
  heap_used_mib: number;
}

const mib = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Labels of the process floors resync's `memory` figures are read from. */
export const BUNDLE_STEP = "process: node dist/drawbridge.js run --help (image bundle)";
export const SOURCES_STEP = "process: node bin/drawbridge.js run --help (sources)";

async function measure(): Promise<FloorStep[]> {
  const steps: FloorStep[] = [];
  const mark = (step: string): void => {
    const m = process.memoryUsage();
    steps.push({ step, rss_mib: mib(m.rss), heap_used_mib: mib(m.heapUsed) });
  };
  mark("node (with the type stripper)");
  await import("@kubernetes/client-node");
  mark("+ @kubernetes/client-node");
  await import("@azure/arm-network");
  await import("@azure/arm-compute");
  mark("+ @azure/arm-network, arm-compute");
  await import("@azure/identity");
  mark("+ @azure/identity");
  await import("pino");
  await import("prom-client");
  mark("+ pino, prom-client");
  await import("../src/operator/main.ts");
  mark("+ drawbridge operator (TypeScript, type-stripped)");
  return steps;
}

// Printed by the measured process as it exits: its own RSS and heap after loading.
const AT_EXIT =
  "data:text/javascript,process.on('exit',()=>{const m=process.memoryUsage();" +
  "process.stderr.write('FLOOR '+JSON.stringify({rss:m.rss,heap:m.heapUsed})+'\\n')})";

/** RSS and heap of `node <operator flags> <args>` at its exit. */
function processFloor(step: string, args: string[]): FloorStep {
  const flags = [
    ...OPERATOR_NODE_OPTIONS.split(" "),
    "--disable-warning=ExperimentalWarning",
    `--import=${AT_EXIT}`,
  ];
  const r = spawnSync(process.execPath, [...flags, ...args], { cwd: ROOT, encoding: "utf8" });
  const line = /FLOOR (\{.*\})/.exec(r.stderr)?.[1];
  if (r.status !== 0 || line === undefined)
    return {
      step: `${step}: failed (${String(r.status)}) ${r.stderr.slice(0, 300)}`,
      rss_mib: NaN,
      heap_used_mib: NaN,
    };
  const m = JSON.parse(line) as { rss: number; heap: number };
  return { step, rss_mib: mib(m.rss), heap_used_mib: mib(m.heap) };
}

function processes(): FloorStep[] {
  const steps = [
    processFloor("process: node (no TypeScript, no module)", ["-e", "0"]),
    processFloor("process: node bin/drawbridge.js run --help (sources)", [
      "bin/drawbridge.js",
      "run",
      "--help",
    ]),
  ];
  // The benchmark builds the bundle before it starts an operator (bench/bundle.ts).
  if (existsSync(join(ROOT, "dist", "drawbridge.js")))
    steps.push(processFloor(BUNDLE_STEP, ["dist/drawbridge.js", "run", "--help"]));
  return steps;
}

/** Runs the measurement in a fresh Node process (this one has loaded too much already). */
export function memoryFloor(): Promise<FloorStep[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", fileURLToPath(import.meta.url)],
      (err, stdout) => {
        if (err !== null) reject(new Error(`memory floor: ${err.message}`));
        else resolve(JSON.parse(stdout) as FloorStep[]);
      },
    );
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const steps = [...processes(), ...(await measure())];
  process.stdout.write(`${JSON.stringify(steps, null, 2)}\n`);
}
