// Scenario 4: one periodic resync over a converged estate of N NSGs and G active grants. The
// emulator is seeded with NSGs whose managed rules already match, the API server with the policies
// and the approved requests (created once, in parallel); then the operator starts, settles, and one
// full resync period is measured: ARM reads and writes (emulator counters), operator CPU seconds
// (/proc utime+stime) and RSS (VmRSS now, VmHWM = peak over the process lifetime).
import { ACCESSREQUEST_PLURAL, JITPOLICY_PLURAL } from "../../src/api/types.ts";
import type { EmulatorStats } from "../emulator.ts";
import { estateSubscriptions, RESYNC_SUB } from "../estate.ts";
import { createNamespace, crPath, pool } from "../kube.ts";
import type { FloorStep } from "../memory-floor.ts";
import { sumOf } from "../operator.ts";
import type { MetricSamples, OperatorProcess } from "../operator.ts";
import type { Stack } from "../stack.ts";
import { sleep, until } from "../stats.ts";
import { buildResyncEstate } from "./resync-estate.ts";
import { floorOrFailure, memoryFigures } from "./resync-memory.ts";
import type { MemoryFigures } from "./resync-memory.ts";

export interface ResyncResults {
  nsgs: number;
  grants: number;
  policies: number;
  managed_rules: number;
  /** one resync: emulator counters and operator process deltas */
  reads: number;
  writes: number;
  reads_per_50_nsgs: number;
  cpu_s: number;
  rss_mib: number;
  peak_rss_mib: number;
  resync_duration_s: number;
  /** operator start -> queues idle after the first (start-up) resync */
  startup: {
    seconds: number;
    reads: number;
    writes: number;
    cpu_s: number;
    peak_rss_mib: number;
    active_grants: number;
    by_operation: Record<string, number>;
  };
  by_operation: Record<string, number>;
  /** subscriptions the NSGs are spread over (NSG i in subscription i mod S) */
  subscriptions: number;
  /** 429s of ARM's throttle over the whole scenario (start-up included) */
  throttled: { reads: number; writes: number };
  /** One GET per NSG instead of paged lists: reads per resync and at start-up, and the seconds
   * ARM's read bucket (250 burst, 25/s per subscription) makes one such resync last at least. */
  naive: { reads: number; startup_reads: number; min_resync_seconds: number };
  setup_seconds: number;
  seed: SeedTiming;
  /** RSS of a fresh Node after loading the operator's modules, before any object */
  memory_floor: FloorStep[];
  memory: MemoryFigures;
}

export interface ResyncOptions {
  nsgs: number;
  grants: number;
  policies: number;
  intervalS: number;
  /** Spread the NSGs over this many subscriptions of their own; omitted = RESYNC_SUB alone. */
  subscriptions?: number;
  namespacePrefix?: string;
  /** Per wait (start-up, each resync); default 10 minutes. */
  timeoutMs?: number;
  /**
   * The operator's V8 old-space limit instead of the shipped 256 MiB (the chart's advice for large
   * estates); peak RSS is still reported against the target.
   */
  heapMiB?: number;
  /** Measure the module-load memory floor (default true). */
  memoryFloor?: boolean;
}

export interface SeedTiming {
  /** NSG documents into the emulator (admin endpoint, 250 per call) */
  nsg_seconds: number;
  /** AccessRequests: create + status patch each, `concurrency` in flight */
  request_seconds: number;
  requests_per_s: number;
  concurrency: number;
}

/** ARM's read bucket per subscription (the emulator's AZURE_THROTTLE). */
const ARM_READ_BURST = 250;
const ARM_READS_PER_S = 25;

const LIST_ALL = "NetworkSecurityGroups_ListAll";

const round = (v: number, d = 100): number => Math.round(v * d) / d;

/** Work still pending or running in any queue, and how many reconciles ran so far. */
function activity(m: MetricSamples): { busy: number; reconciles: number; resyncs: number } {
  return {
    busy: sumOf(m, "workqueue_depth") + sumOf(m, "workqueue_unfinished_work_seconds"),
    reconciles: sumOf(m, "controller_runtime_reconcile_total"),
    resyncs: sumOf(m, "drawbridge_resync_duration_seconds_count"),
  };
}

/** Waits until at least `minResyncs` resyncs completed and the queues stayed idle for `quietMs`. */
/**
 * /metrics of a live operator. A start-up that keeps the event loop busy for seconds (10,000 objects
 * listed and indexed) can fail a scrape; that is retried, an operator that exited is not.
 */
async function scrape(op: OperatorProcess): Promise<MetricSamples> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op.metrics();
    } catch (err) {
      if (op.child.proc.exitCode !== null) throw new Error(`operator exited (${op.child.proc.exitCode})`);
      if (attempt >= 5) throw err;
      await sleep(500 * attempt);
    }
  }
}

async function settle(
  op: OperatorProcess,
  minResyncs: number,
  timeoutMs: number,
  quietMs = 2000,
  stepMs = 250,
): Promise<MetricSamples> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let quietSince = Date.now();
  for (;;) {
    const m = await scrape(op);
    const a = activity(m);
    if (a.busy > 0 || a.reconciles !== last || a.resyncs < minResyncs) quietSince = Date.now();
    last = a.reconciles;
    if (Date.now() - quietSince >= quietMs) return m;
    if (Date.now() > deadline)
      throw new Error(
        `operator did not settle (resyncs ${a.resyncs}/${minResyncs}, busy ${a.busy}) in ${timeoutMs} ms`,
      );
    if (op.child.proc.exitCode !== null) throw new Error(`operator exited (${op.child.proc.exitCode})`);
    await sleep(stepMs);
  }
}

/** Requests created (and their status patched) this many at a time; the agent keeps 64 sockets. */
const SEED_CONCURRENCY = 64;

interface SeedResult {
  managedRules: number;
  seed: SeedTiming;
}

export async function seed(stack: Stack, ns: string, o: ResyncOptions, subs: string[]): Promise<SeedResult> {
  const built = Date.now();
  const estate = buildResyncEstate(ns, o.nsgs, o.grants, o.policies, subs);
  stack.log(`  estate built in ${round((Date.now() - built) / 1000, 10)} s`);
  // The build blocks the event loop for up to a minute: let the keep-alive sockets the servers
  // closed meanwhile be noticed, or the next call is written to a dead one ("socket hang up").
  await sleep(500);
  const started = Date.now();
  for (let i = 0; i < estate.nsgDocs.length; i += 250)
    await stack.emulator.admin.addResources(estate.nsgDocs.slice(i, i + 250));
  const nsgSeconds = (Date.now() - started) / 1000;
  await createNamespace(stack.kube, ns, subs);
  for (const p of estate.policies) await stack.kube.call("POST", crPath(ns, JITPOLICY_PLURAL), p);
  const requestsStart = Date.now();
  const total = estate.requests.length;
  const every = Math.max(1000, Math.ceil(total / 10 / 1000) * 1000);
  let done = 0;
  await pool(estate.requests, SEED_CONCURRENCY, async (r) => {
    const created = await stack.kube.call("POST", crPath(ns, ACCESSREQUEST_PLURAL), r.body);
    const name = created.metadata.name ?? "";
    await stack.kube.call(
      "PATCH",
      `${crPath(ns, ACCESSREQUEST_PLURAL, name)}/status`,
      { status: r.status },
      "application/merge-patch+json",
    );
    if (++done % every === 0) {
      const s = (Date.now() - requestsStart) / 1000;
      stack.log(`  ${done}/${total} requests created in ${round(s, 10)} s (${Math.round(done / s)}/s)`);
    }
  });
  const requestSeconds = (Date.now() - requestsStart) / 1000;
  return {
    managedRules: estate.managedRules,
    seed: {
      nsg_seconds: round(nsgSeconds, 10),
      request_seconds: round(requestSeconds, 10),
      requests_per_s: total === 0 ? 0 : Math.round(total / Math.max(requestSeconds, 0.001)),
      concurrency: SEED_CONCURRENCY,
    },
  };
}

/** Emulator counters between two snapshots (the scenario never resets them once the operator runs). */
function delta(a: EmulatorStats, b: EmulatorStats): EmulatorStats {
  const byOperation: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.byOperation)) {
    const d = v - (a.byOperation[k] ?? 0);
    if (d !== 0) byOperation[k] = d;
  }
  return {
    reads: b.reads - a.reads,
    writes: b.writes - a.writes,
    throttled: b.throttled - a.throttled,
    throttledReads: b.throttledReads - a.throttledReads,
    throttledWrites: b.throttledWrites - a.throttledWrites,
    byOperation,
  };
}

export async function runResync(stack: Stack, o: ResyncOptions): Promise<ResyncResults> {
  const { admin } = stack.emulator;
  const ns = `${o.namespacePrefix ?? "bench-resync"}-${Date.now().toString(36)}`;
  const subs = o.subscriptions === undefined ? [RESYNC_SUB] : estateSubscriptions(o.nsgs, o.subscriptions);
  stack.log(
    `resync: seeding ${o.nsgs} converged NSGs over ${subs.length} subscription(s), ${o.policies} policies, ${o.grants} active requests`,
  );
  const setupStart = Date.now();
  const { managedRules, seed: seedTiming } = await seed(stack, ns, o, subs);
  const setupSeconds = round((Date.now() - setupStart) / 1000, 10);
  stack.log(`  seeded in ${setupSeconds} s; starting the operator (resync every ${o.intervalS} s)`);
  await admin.resetStats();
  const zero = await admin.stats();
  const t0 = Date.now();
  const op = await stack.operator({
    namespace: ns,
    writeMode: "rule",
    resyncInterval: `${o.intervalS}s`,
    ...(o.heapMiB === undefined ? {} : { nodeArgs: [`--max-old-space-size=${o.heapMiB}`] }),
  });
  try {
    const timeout = o.timeoutMs ?? 600_000;
    const m0 = await settle(op, 1, timeout);
    const startup = delta(zero, await admin.stats());
    const p0 = op.proc();
    const startupInfo = {
      seconds: round((Date.now() - t0) / 1000, 10),
      reads: startup.reads,
      writes: startup.writes,
      cpu_s: round(p0.cpuSeconds),
      peak_rss_mib: round(p0.peakRssMiB, 10),
      active_grants: sumOf(m0, "drawbridge_active_grants"),
      by_operation: startup.byOperation,
    };
    stack.log(
      `  operator settled in ${startupInfo.seconds} s: ${startup.reads} reads, ${startup.writes} writes, ${startupInfo.cpu_s} CPU s, ${startup.throttled} throttled`,
    );
    // Measure one whole period that starts just after a resync finished and ends after the next.
    const first = activity(m0).resyncs;
    await settle(op, first + 1, timeout);
    const before = await admin.stats();
    const a = op.proc();
    const mA = await scrape(op);
    // Scraping /metrics costs the operator CPU: wait for the resync's list call on the emulator's
    // counters instead, then scrape only every 500 ms until the queues drain.
    await until(
      "the next resync's list call",
      async () => (delta(before, await admin.stats()).byOperation[LIST_ALL] ?? 0) > 0,
      timeout,
      100,
    );
    const mB = await settle(op, first + 2, timeout, 2000, 500);
    const b = op.proc();
    const end = await admin.stats();
    const stats = delta(before, end);
    const whole = delta(zero, end);
    // Informational: a failure here must not discard the measurement.
    const floor = o.memoryFloor === false ? [] : await floorOrFailure();
    const resyncSeconds =
      sumOf(mB, "drawbridge_resync_duration_seconds_sum") -
      sumOf(mA, "drawbridge_resync_duration_seconds_sum");
    const perSub = Math.ceil(o.nsgs / subs.length);
    const result: ResyncResults = {
      nsgs: o.nsgs,
      grants: o.grants,
      policies: o.policies,
      subscriptions: subs.length,
      managed_rules: managedRules,
      reads: stats.reads,
      writes: stats.writes,
      reads_per_50_nsgs: round((stats.reads * 50) / o.nsgs),
      cpu_s: round(b.cpuSeconds - a.cpuSeconds),
      rss_mib: round(b.rssMiB, 10),
      peak_rss_mib: round(b.peakRssMiB, 10),
      resync_duration_s: round(resyncSeconds, 1000),
      startup: startupInfo,
      throttled: { reads: whole.throttledReads, writes: whole.throttledWrites },
      naive: {
        reads: o.nsgs,
        startup_reads: o.nsgs,
        min_resync_seconds: round(Math.max(0, perSub - ARM_READ_BURST) / ARM_READS_PER_S, 10),
      },
      by_operation: stats.byOperation,
      setup_seconds: setupSeconds,
      seed: seedTiming,
      memory_floor: floor,
      memory: memoryFigures(mB, o.grants, floor, stack.operatorCode),
    };
    stack.log(
      `  one resync: ${result.reads} reads, ${result.writes} writes, ${result.cpu_s} CPU s, RSS ${result.rss_mib} MiB (peak ${result.peak_rss_mib}), heap ${result.memory.heap_used_mib} MiB (${result.memory.heap_mib_per_1000_grants} per 1,000 grants); throttled ${whole.throttledReads} reads / ${whole.throttledWrites} writes`,
    );
    return result;
  } catch (err) {
    throw new Error(`${(err as Error).message}\noperator log tail:\n${op.logs()}`, { cause: err });
  } finally {
    await op.stop();
  }
}
