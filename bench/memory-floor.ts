// The operator's memory floor: RSS after loading each of its dependencies in turn, before any
// object exists. Explains how much of the operator's RSS is code rather than state.
// Run: `node bench/memory-floor.ts` (prints JSON); the resync scenario runs it in a child process.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface FloorStep {
  step: string;
  rss_mib: number;
  heap_used_mib: number;
}

const mib = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;

async function measure(): Promise<FloorStep[]> {
  const steps: FloorStep[] = [];
  const mark = (step: string): void => {
    const m = process.memoryUsage();
    steps.push({ step, rss_mib: mib(m.rss), heap_used_mib: mib(m.heapUsed) });
  };
  mark("node");
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
  process.stdout.write(`${JSON.stringify(await measure(), null, 2)}\n`);
}
