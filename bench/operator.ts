// The operator under test as a child process (`drawbridge run` from the image's bundle, as the image
// runs it: `node dist/drawbridge.js run`, built by bench/bundle.ts), plus what the benchmark reads from
// it: Prometheus metrics (queue depth, reconcile counts, resync count) and, from /proc, CPU seconds
// and peak RSS.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BUNDLE_ENTRY } from "./bundle.ts";
import { ROOT, spawnNode, tail, waitForLine } from "./procs.ts";
import type { Child, Reaper } from "./procs.ts";

export interface OperatorSpec {
  kubeconfig: string;
  armEndpoint: string;
  armCaFile: string;
  namespace: string;
  writeMode: "rule" | "nsg";
  resyncInterval: string;
  extraArgs?: string[];
  /** Node flags for the operator process, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Environment variables added to the benchmark's own for the operator process. */
  env?: Readonly<Record<string, string>>;
  /**
   * Run bin/drawbridge.js (the TypeScript sources) instead of the bundle: CPU profiles then name the
   * source file and package of every function, which the bundle's chunks do not.
   */
  fromSources?: boolean;
}

export interface ProcSample {
  cpuSeconds: number;
  rssMiB: number;
  peakRssMiB: number;
}

export type MetricSamples = Map<string, number>;

export class OperatorProcess {
  readonly child: Child;
  readonly metricsUrl: string;
  readonly #reaper: Reaper;
  readonly #name: string;

  constructor(child: Child, metricsUrl: string, reaper: Reaper, name: string) {
    this.child = child;
    this.metricsUrl = metricsUrl;
    this.#reaper = reaper;
    this.#name = name;
  }

  async stop(): Promise<void> {
    await this.#reaper.release(this.#name);
  }

  /** Every sample of /metrics keyed by `name{labels}` (labels as printed). */
  async metrics(): Promise<MetricSamples> {
    // A connection reset under load ("fetch failed", 2 cores, 4 replicas of 100,000 requests) is
    // tried again while the process lives; a dead operator still fails the scrape.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#scrape();
      } catch (err) {
        const alive = this.child.proc.exitCode === null && this.child.proc.signalCode === null;
        if (!alive || attempt >= 3 || (err as Error).message !== "fetch failed") throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async #scrape(): Promise<MetricSamples> {
    // Bounded: a scrape left unanswered by a busy operator must fail and be retried, not hang the run.
    const res = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`operator /metrics: ${res.status}`);
    return parseMetrics(await res.text());
  }

  /** CPU seconds (user + system) and resident memory from /proc. */
  proc(): ProcSample {
    return procSample(this.child.pid);
  }

  logs(chars = 4000): string {
    return tail(this.child, chars);
  }
}

export function parseMetrics(text: string): MetricSamples {
  const out: MetricSamples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Sum of the samples whose key starts with `prefix` (e.g. a metric over all its labels). */
export function sumOf(m: MetricSamples, prefix: string): number {
  let total = 0;
  for (const [k, v] of m) if (k === prefix || k.startsWith(`${prefix}{`)) total += v;
  return total;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
  return {
    cpuSeconds: (utime + stime) / CLOCK_TICKS,
    rssMiB: kib("VmRSS") / 1024,
    peakRssMiB: kib("VmHWM") / 1024,
  };
}

let counter = 0;

export async function startOperator(spec: OperatorSpec, reaper: Reaper): Promise<OperatorProcess> {
  const args = [
    ...(spec.nodeArgs ?? []),
    spec.fromSources === true ? join(ROOT, "bin", "drawbridge.js") : BUNDLE_ENTRY,
    "run",
    `--kubeconfig=${spec.kubeconfig}`,
    `--arm-endpoint=${spec.armEndpoint}`,
    `--arm-ca-file=${spec.armCaFile}`,
    "--leader-elect=false",
    `--namespace=${spec.namespace}`,
    // The signing key's Secret lives in the home namespace: the benchmark's own.
    `--leader-election-namespace=${spec.namespace}`,
    "--metrics-bind-address=127.0.0.1:0",
    "--health-probe-bind-address=0",
    `--write-mode=${spec.writeMode}`,
    `--resync-interval=${spec.resyncInterval}`,
    // BENCH_OPERATOR_LOG_LEVEL=debug for a diagnosis (with BENCH_LOG_DIR to keep the whole log).
    `--log-level=${process.env.BENCH_OPERATOR_LOG_LEVEL ?? "info"}`,
    // No admission policy runs in the benchmark: the index it reads is not published.
    "--scope-index-name=",
    // Requests here are made as any requester: the requester admission policy is not what this runs.
    "--allow-unguarded-namespaces",
    // One requester makes hundreds of requests here: the volume limits are tested in volume-attack.test.ts.
    "--max-open-requests-per-requester=1000000",
    "--max-open-requests-per-namespace=1000000",
    ...(spec.extraArgs ?? []),
  ];
  const name = `operator-${++counter}`;
  const child = spawnNode(name, args, spec.env);
  reaper.add(name, () => child.stop());
  const m = await waitForLine(child, /"metrics":"([^"]+)".*drawbridge operator starting/, 60_000);
  const address = m[1] ?? "";
  return new OperatorProcess(child, `http://${address}/metrics`, reaper, name);
}
