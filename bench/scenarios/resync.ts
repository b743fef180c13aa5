// Scenario 4: one periodic resync over a converged estate of N NSGs and G active grants. The
// emulator is seeded with NSGs whose managed rules already match, the API server with the policies
// and the approved requests (created once, in parallel); then the operator starts, settles, and one
// full resync period is measured: ARM reads and writes (emulator counters), operator CPU seconds
// (/proc utime+stime) and RSS (VmRSS now, VmHWM = peak over the process lifetime).
import { ACCESSREQUEST_PLURAL, JITPOLICY_PLURAL } from "../../src/api/types.ts";
import { RESYNC_SUB } from "../estate.ts";
import { createNamespace, crPath, pool } from "../kube.ts";
import { memoryFloor } from "../memory-floor.ts";
import type { FloorStep } from "../memory-floor.ts";
import { sumOf } from "../operator.ts";
import type { MetricSamples, OperatorProcess } from "../operator.ts";
import type { Stack } from "../stack.ts";
import { sleep, until } from "../stats.ts";
import { buildResyncEstate } from "./resync-estate.ts";

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
    active_grants: number;
    by_operation: Record<string, number>;
  };
  by_operation: Record<string, number>;
  setup_seconds: number;
  /** RSS of a fresh Node after loading the operator's modules, before any object */
  memory_floor: FloorStep[];
}

export interface ResyncOptions {
  nsgs: number;
  grants: number;
  policies: number;
  intervalS: number;
}

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

export async function seed(stack: Stack, ns: string, o: ResyncOptions): Promise<{ managedRules: number }> {
  const estate = buildResyncEstate(ns, o.nsgs, o.grants, o.policies);
  for (let i = 0; i < estate.nsgDocs.length; i += 250)
    await stack.emulator.admin.addResources(estate.nsgDocs.slice(i, i + 250));
  await createNamespace(stack.kube, ns, [RESYNC_SUB]);
  for (const p of estate.policies) await stack.kube.call("POST", crPath(ns, JITPOLICY_PLURAL), p);
  let done = 0;
  await pool(estate.requests, 48, async (r) => {
    const created = await stack.kube.call("POST", crPath(ns, ACCESSREQUEST_PLURAL), r.body);
    const name = created.metadata.name ?? "";
    await stack.kube.call(
      "PATCH",
      `${crPath(ns, ACCESSREQUEST_PLURAL, name)}/status`,
      { status: r.status },
      "application/merge-patch+json",
    );
    if (++done % 2000 === 0) stack.log(`  ${done}/${estate.requests.length} requests created`);
  });
  return { managedRules: estate.managedRules };
}

export async function runResync(stack: Stack, o: ResyncOptions): Promise<ResyncResults> {
  const { admin } = stack.emulator;
  const ns = `bench-resync-${Date.now().toString(36)}`;
  stack.log(`resync: seeding ${o.nsgs} converged NSGs, ${o.policies} policies, ${o.grants} active requests`);
  const setupStart = Date.now();
  const { managedRules } = await seed(stack, ns, o);
  const setupSeconds = round((Date.now() - setupStart) / 1000, 10);
  stack.log(`  seeded in ${setupSeconds} s; starting the operator (resync every ${o.intervalS} s)`);
  await admin.resetStats();
  const t0 = Date.now();
  const op = await stack.operator({ namespace: ns, writeMode: "rule", resyncInterval: `${o.intervalS}s` });
  try {
    const timeout = 600_000;
    const m0 = await settle(op, 1, timeout);
    const startup = await admin.stats();
    const p0 = op.proc();
    const startupInfo = {
      seconds: round((Date.now() - t0) / 1000, 10),
      reads: startup.reads,
      writes: startup.writes,
      cpu_s: round(p0.cpuSeconds),
      active_grants: sumOf(m0, "drawbridge_active_grants"),
      by_operation: startup.byOperation,
    };
    stack.log(
      `  operator settled in ${startupInfo.seconds} s: ${startup.reads} reads, ${startup.writes} writes, ${startupInfo.cpu_s} CPU s`,
    );
    // Measure one whole period that starts just after a resync finished and ends after the next.
    const first = activity(m0).resyncs;
    await settle(op, first + 1, timeout);
    await admin.resetStats();
    const a = op.proc();
    const mA = await scrape(op);
    // Scraping /metrics costs the operator CPU: wait for the resync's list call on the emulator's
    // counters instead, then scrape only every 500 ms until the queues drain.
    await until(
      "the next resync's list call",
      async () => ((await admin.stats()).byOperation[LIST_ALL] ?? 0) > 0,
      timeout,
      100,
    );
    const mB = await settle(op, first + 2, timeout, 2000, 500);
    const b = op.proc();
    const stats = await admin.stats();
    const resyncSeconds =
      sumOf(mB, "drawbridge_resync_duration_seconds_sum") -
      sumOf(mA, "drawbridge_resync_duration_seconds_sum");
    const result: ResyncResults = {
      nsgs: o.nsgs,
      grants: o.grants,
      policies: o.policies,
      managed_rules: managedRules,
      reads: stats.reads,
      writes: stats.writes,
      reads_per_50_nsgs: round((stats.reads * 50) / o.nsgs),
      cpu_s: round(b.cpuSeconds - a.cpuSeconds),
      rss_mib: round(b.rssMiB, 10),
      peak_rss_mib: round(b.peakRssMiB, 10),
      resync_duration_s: round(resyncSeconds, 1000),
      startup: startupInfo,
      by_operation: stats.byOperation,
      setup_seconds: setupSeconds,
      // Informational: a failure here must not discard the measurement.
      memory_floor: await memoryFloor().catch((err: unknown) => [
        { step: `failed: ${String(err).slice(0, 300)}`, rss_mib: NaN, heap_used_mib: NaN },
      ]),
    };
    stack.log(
      `  one resync: ${result.reads} reads, ${result.writes} writes, ${result.cpu_s} CPU s, RSS ${result.rss_mib} MiB (peak ${result.peak_rss_mib})`,
    );
    return result;
  } catch (err) {
    throw new Error(`${(err as Error).message}\noperator log tail:\n${op.logs()}`, { cause: err });
  } finally {
    await op.stop();
  }
}
