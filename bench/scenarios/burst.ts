// Scenario 3: a burst of R requests over 5 NSGs. ARM writes (emulator counters) and time from the
// first create to every source being in its NSG, in `rule` mode, `nsg` mode, and for a naive
// baseline that PUTs one rule per request through the Azure adapter (sequential per NSG, NSGs in
// parallel: the best a one-write-per-request design can do against Azure's per-NSG serialization).
import { ACCESSREQUEST_PLURAL, JITPOLICY_PLURAL } from "../../src/api/types.ts";
import { hasManagedDeny } from "../emulator.ts";
import { naiveAdapter, naiveRule } from "../naive.ts";
import { foreignRules, nsgDocument, nsgId, policyObject, requestObject, sourceOf } from "../estate.ts";
import { createNamespace, crPath, pool } from "../kube.ts";
import { NsgWatch } from "../nsg-watch.ts";
import { RequestWatch } from "../request-watch.ts";
import type { Stack } from "../stack.ts";
import { sleep, until } from "../stats.ts";

export interface BurstRun {
  requests: number;
  nsgs: number;
  write_latency_ms: number;
  /** ARM writes from the first create until everything converged (plus a settle period) */
  writes: number;
  reads: number;
  throttled: number;
  /** first create -> every source present */
  converge_s: number;
  /** first create -> last create acknowledged */
  create_span_s: number;
  /** first create -> last approval (status.startTime): how fast grants reach the NSG planner */
  approval_span_s: number;
  by_operation: Record<string, number>;
}

export interface BurstResults {
  rule: BurstRun;
  nsg: BurstRun;
  naive: BurstRun;
  /** naive writes / mode writes */
  write_reduction: { rule: number; nsg: number };
}

export interface BurstOptions {
  requests: number;
  nsgs: number;
  writeLatencyMs: number;
  duration: string;
}

const round = (v: number, d = 10): number => Math.round(v * d) / d;

function burstNsgs(tag: string, count: number): string[] {
  return Array.from({ length: count }, (_, k) => nsgId(`bench-burst-${tag}-${k}`));
}

/** One mode's result: the emulator's counters since the burst began, and its spans. */
function runOf(
  o: BurstOptions,
  stats: Awaited<ReturnType<Stack["emulator"]["admin"]["stats"]>>,
  spans: Pick<BurstRun, "converge_s" | "create_span_s" | "approval_span_s">,
): BurstRun {
  return {
    requests: o.requests,
    nsgs: o.nsgs,
    write_latency_ms: o.writeLatencyMs,
    writes: stats.writes,
    reads: stats.reads,
    throttled: stats.throttled,
    ...spans,
    by_operation: stats.byOperation,
  };
}

async function runMode(stack: Stack, mode: "rule" | "nsg", o: BurstOptions): Promise<BurstRun> {
  const { admin } = stack.emulator;
  const tag = `${mode}-${Date.now().toString(36)}`;
  const ns = `bench-burst-${tag}`;
  const ids = burstNsgs(tag, o.nsgs);
  await createNamespace(stack.kube, ns);
  await admin.addResources(ids.map((id) => nsgDocument(id, foreignRules())));
  await admin.setWriteLatency(o.writeLatencyMs);
  const operator = await stack.operator({ namespace: ns, writeMode: mode, resyncInterval: "5m" });
  try {
    await stack.kube.call("POST", crPath(ns, JITPOLICY_PLURAL), policyObject(ns, "burst", ids));
    for (const id of ids) {
      await until(
        `baseline deny in ${id}`,
        async () => hasManagedDeny((await admin.rules(id)) ?? []),
        120_000,
      );
    }
    await sleep(500 + 2 * o.writeLatencyMs);
    await admin.resetStats();
    const requestWatch = await RequestWatch.start(stack.kube, ns);
    const watch = new NsgWatch(admin, ids, 20).start();
    const sources = Array.from({ length: o.requests }, (_, k) => sourceOf(k));
    const t0 = Date.now();
    let lastAck = t0;
    try {
      await pool(sources, 50, async (source, k) => {
        const body = requestObject({
          namespace: ns,
          name: `b-${k}`,
          policy: "burst",
          source,
          duration: o.duration,
          targets: [ids[k % ids.length] ?? ""],
        });
        await stack.kube.call("POST", crPath(ns, ACCESSREQUEST_PLURAL), body);
        lastAck = Math.max(lastAck, Date.now());
      });
      await until(
        `${o.requests} sources in ${o.nsgs} NSGs (${mode} mode)`,
        () => sources.every((s) => watch.appeared.has(s)),
        300_000,
      );
    } finally {
      await watch.stop();
      requestWatch.stop();
    }
    const approvals = [...requestWatch.tracks.values()].map((t) => t.startTime ?? NaN);
    const converged = Math.max(...sources.map((s) => watch.appeared.get(s) ?? NaN));
    // Writes still in flight (e.g. a status-driven re-plan) belong to the burst too.
    await sleep(1000 + 2 * o.writeLatencyMs);
    return runOf(o, await admin.stats(), {
      converge_s: round((converged - t0) / 1000, 100),
      create_span_s: round((lastAck - t0) / 1000, 100),
      approval_span_s: round((Math.max(...approvals) - t0) / 1000, 100),
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}\noperator log tail:\n${operator.logs()}`, { cause: err });
  } finally {
    await operator.stop();
  }
}

async function runNaive(stack: Stack, o: BurstOptions): Promise<BurstRun> {
  const { admin } = stack.emulator;
  const ids = burstNsgs(`naive-${Date.now().toString(36)}`, o.nsgs);
  await admin.addResources(ids.map((id) => nsgDocument(id, foreignRules())));
  await admin.setWriteLatency(o.writeLatencyMs);
  const azure = naiveAdapter(stack);
  await admin.resetStats();
  const t0 = Date.now();
  try {
    await Promise.all(
      ids.map(async (id, n) => {
        for (let k = n, i = 0; k < o.requests; k += ids.length, i++)
          await azure.putRule(id, naiveRule(k, i, "b"));
      }),
    );
  } finally {
    azure.close();
  }
  const seconds = (Date.now() - t0) / 1000;
  return runOf(o, await admin.stats(), {
    converge_s: round(seconds, 100),
    create_span_s: 0,
    approval_span_s: 0,
  });
}

export async function runBurst(stack: Stack, o: BurstOptions): Promise<BurstResults> {
  try {
    stack.log(`burst: ${o.requests} requests over ${o.nsgs} NSGs, write latency ${o.writeLatencyMs} ms`);
    const rule = await runMode(stack, "rule", o);
    stack.log(`  rule mode: ${rule.writes} writes, converged in ${rule.converge_s} s`);
    const nsg = await runMode(stack, "nsg", o);
    stack.log(`  nsg mode: ${nsg.writes} writes, converged in ${nsg.converge_s} s`);
    const naive = await runNaive(stack, o);
    stack.log(`  naive: ${naive.writes} writes, converged in ${naive.converge_s} s`);
    const ratio = (w: number): number => (w === 0 ? NaN : round(naive.writes / w));
    return { rule, nsg, naive, write_reduction: { rule: ratio(rule.writes), nsg: ratio(nsg.writes) } };
  } finally {
    await stack.emulator.admin.setWriteLatency(0);
  }
}
