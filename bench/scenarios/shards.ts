// Scenario: NSG sharding (ADR 0018). The resync estate (converged NSGs and active grants, sized by
// the profile) is run by 1, 2 and 4 replicas over the same shard count; per replica it reports the
// NSGs it owns, its ARM reads and writes (its own drawbridge_arm_requests_total) and its CPU seconds
// over start-up, a burst of new requests (one per sampled NSG) and one resync period; then one
// replica holding no shard 0 is SIGKILLed and the time until its shards are held again is measured.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ACCESSREQUEST_PLURAL } from "../../src/api/types.ts";
import { nsgKey } from "../../src/operator/state/keys.ts";
import { shardOf } from "../../src/runtime/shard-hash.ts";
import { estateSubscriptions, nsgId, requestObject, RESYNC_SUB, sourceOf } from "../estate.ts";
import { createNamespace, crPath, pool } from "../kube.ts";
import type { KubeClient } from "../kube.ts";
import type { MetricSamples, OperatorProcess } from "../operator.ts";
import type { Stack } from "../stack.ts";
import { sleep, until } from "../stats.ts";
import { seed } from "./resync.ts";

export interface ShardsOptions {
  nsgs: number;
  grants: number;
  policies: number;
  shards: number;
  replicas: number[];
  /** New requests in the burst (one per NSG, the first ones of the estate; at most 5,000 per run). */
  burst: number;
  intervalS: number;
  /** NSG i lives in subscription i mod S (default 1: the resync estate's own subscription). */
  subscriptions?: number;
  /** Operators' old-space limit (MiB) instead of the shipped 256. */
  heapMiB?: number;
}

export interface ReplicaWork {
  identity: string;
  shards: number[];
  nsgs_owned: number;
  /** ARM reads from the replica's start until the replicas first settled (start-up, shard hand-overs). */
  start_arm_reads: number;
  /** ARM writes over the same phase (0 on a converged estate). */
  start_arm_writes: number;
  /** CPU seconds over the same phase. */
  start_cpu_s: number;
  arm_reads: number;
  arm_writes: number;
  cpu_s: number;
  /** The replica's peak RSS (VmHWM) at the end of the resync period after the burst. */
  peak_rss_mib: number;
}

export interface ShardsRun {
  replicas: number;
  per_replica: ReplicaWork[];
  /** The busiest replica's ARM calls over the mean (1 = perfectly even). */
  max_over_mean_arm_calls: number;
  /** From the first replica's start until the replicas first settled. */
  settle_s: number;
  burst_active_s: number;
  /** ARM 429s the emulator answered from the replicas' start to the end of the run (reads / writes). */
  throttled: { reads: number; writes: number };
  /** Of those, the reads answered 429 before the replicas first settled (start-up, shard hand-overs). */
  start_throttled_reads: number;
  /** The emulator's count of requests by operation until the replicas first settled (all replicas). */
  start_operations: Record<string, number>;
  /**
   * From the replicas settling to the end of the resync period after the burst: the emulator's count
   * of requests by operation (all replicas, 429s and retries included), e.g. "getNsg", "getOperation".
   */
  burst_operations: Record<string, number>;
  /** SIGKILL of a replica -> its shards held again (Lease acquireTime); null with one replica. */
  failover_ms: number | null;
  /**
   * After the SIGKILL until the survivors settled again (the take-over of the dead replica's
   * shards): each survivor's ARM reads, and the emulator's 429s on reads. Null with one replica.
   */
  failover_arm_reads: Record<string, number> | null;
  failover_throttled_reads: number | null;
}

export interface ShardsResults {
  nsgs: number;
  grants: number;
  subscriptions: number;
  shards: number;
  /** new requests in each run's burst, one per NSG */
  burst: number;
  /**
   * The naive one-write-per-request design on the same estate, over all replicas: one GET per NSG
   * per resync, one write per new request. Absent in older results.
   */
  naive?: { resync_reads: number; burst_writes: number };
  lease_duration_s: number;
  retry_period_s: number;
  runs: ShardsRun[];
}

// The chart's timings: a 10,000-request start-up keeps a loaded 2-core machine busy for seconds, and
// a 4 s renew deadline (the chaos case's) was missed there once.
const LEASE = { duration: 15, renewDeadline: 10, retry: 2 };
const round = (v: number, d = 100): number => Math.round(v * d) / d;

/** Polls fn until it returns a value; throws naming `what` after timeoutMs. */
async function pollFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  stepMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

interface Lease {
  holder: string | undefined;
  acquiredAt: number;
}

async function leases(kube: KubeClient, ns: string, id: string, shards: number): Promise<Lease[]> {
  return Promise.all(
    Array.from({ length: shards }, async (_, i) => {
      try {
        const l = await kube.call(
          "GET",
          `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${id}-shard-${i}`,
        );
        const spec = (l as unknown as { spec?: { holderIdentity?: string; acquireTime?: string } }).spec;
        const holder = spec?.holderIdentity === "" ? undefined : spec?.holderIdentity;
        return { holder, acquiredAt: Date.parse(spec?.acquireTime ?? "") };
      } catch {
        return { holder: undefined, acquiredAt: NaN };
      }
    }),
  );
}

function armCalls(m: MetricSamples): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const [k, v] of m) {
    if (!k.startsWith("drawbridge_arm_requests_total{")) continue;
    if (/operation="GET /.test(k)) reads += v;
    else writes += v;
  }
  return { reads, writes };
}

/**
 * Every replica's NSG queue empty and idle, and the decider's request queue too (a replica that does
 * not decide keeps its request queue unstarted), on two samples in a row. Reconcile counts are no
 * sign: each replica's resync keeps reconciling its NSGs on its own schedule.
 */
async function quiet(ops: OperatorProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let calm = 0;
  for (;;) {
    const ms = await Promise.all(ops.map((o) => o.metrics()));
    const busy = ms.some((m) => {
      const nsg =
        (m.get('workqueue_depth{name="nsg"}') ?? 0) +
        (m.get('workqueue_unfinished_work_seconds{name="nsg"}') ?? 0);
      const deciding = [...m].some(
        ([k, v]) => k.startsWith("leader_election_master_status") && k.includes("-shard-0") && v === 1,
      );
      return nsg > 0 || (deciding && (m.get('workqueue_depth{name="accessrequest"}') ?? 0) > 0);
    });
    calm = busy ? 0 : calm + 1;
    if (calm >= 2) return;
    if (Date.now() > deadline) throw new Error(`replicas did not settle in ${timeoutMs} ms`);
    await sleep(500);
  }
}

/**
 * quiet() until no replica's ARM reads moved over 3 s: a shard's NSGs wait for their take-over list
 * outside the NSG queue, so an idle queue alone does not mean the take-over is done.
 */
async function settled(
  ops: OperatorProcess[],
  timeoutMs: number,
): Promise<{ reads: number; writes: number }[]> {
  const read = (): Promise<{ reads: number; writes: number }[]> =>
    Promise.all(ops.map(async (op) => armCalls(await op.metrics())));
  let last = await read();
  for (;;) {
    await sleep(3000);
    await quiet(ops, timeoutMs);
    const now = await read();
    if (now.every((c, i) => c.reads === last[i]?.reads)) return now;
    last = now;
  }
}

async function burst(
  stack: Stack,
  ns: string,
  o: ShardsOptions,
  run: number,
  subs: string[],
): Promise<number> {
  if (o.burst > 5_000) throw new Error(`shards.burst ${String(o.burst)} is above the limit of 5,000`);
  const started = Date.now();
  const perPolicy = Math.ceil(o.nsgs / o.policies);
  const names: string[] = [];
  await pool([...Array(o.burst).keys()], 16, async (i) => {
    const name = `b${run}-${i}`;
    names.push(name);
    const body = requestObject({
      namespace: ns,
      name,
      policy: `resync-${Math.floor(i / perPolicy)}`,
      // Past the seeded grants' sources, 5,000 per replica count (4 replicas: 120,000 + i).
      source: sourceOf(100_000 + run * 5_000 + i),
      duration: "PT1H",
      targets: [nsgId(`bench-resync-${i}`, subs[i % subs.length])],
    });
    await stack.kube.call("POST", crPath(ns, ACCESSREQUEST_PLURAL), body);
  });
  // One GET per request not yet seen Active: a list of the namespace would carry every seeded grant
  // (100,000 at the 10x size) twice a second.
  const waiting = new Set(names);
  await until(
    "the burst Active",
    async () => {
      await pool([...waiting], 16, async (name) => {
        const r = (await stack.kube.call("GET", crPath(ns, ACCESSREQUEST_PLURAL, name))) as unknown as {
          status?: { phase?: string };
        };
        if (r.status?.phase === "Active") waiting.delete(name);
      });
      return waiting.size === 0;
    },
    300_000,
    500,
  );
  return round((Date.now() - started) / 1000, 10);
}

async function runReplicas(
  stack: Stack,
  ns: string,
  o: ShardsOptions,
  n: number,
  keys: string[],
  subs: string[],
): Promise<ShardsRun> {
  const id = `bench-shards-${n}`;
  const stats0 = await stack.emulator.admin.stats();
  const identities = Array.from({ length: n }, (_, i) => `${id}-r${i}`);
  const ops: OperatorProcess[] = [];
  // Every replica lists and indexes every request before it takes a Lease, all at once on the same
  // cores: the waits grow with the grants times the replicas (100,000 grants: 145 s for one replica).
  const startMs = 120_000 + o.grants * n * 1.5;
  const startedAt = Date.now();
  try {
    for (const identity of identities)
      ops.push(
        await stack.operator({
          namespace: ns,
          writeMode: "rule",
          resyncInterval: `${o.intervalS}s`,
          ...(o.heapMiB === undefined ? {} : { nodeArgs: [`--max-old-space-size=${o.heapMiB}`] }),
          extraArgs: [
            "--leader-elect=true",
            `--leader-election-id=${id}`,
            `--identity=${identity}`,
            `--shards=${o.shards}`,
            `--lease-duration=${LEASE.duration}s`,
            `--renew-deadline=${LEASE.renewDeadline}s`,
            `--retry-period=${LEASE.retry}s`,
            // The first lists of the requests, n replicas at once (the default 3 minutes is one's).
            `--startup-timeout=${Math.ceil(Math.max(180_000, startMs) / 1000)}s`,
          ],
        }),
      );
    const want = Math.ceil(o.shards / n);
    const balanced = await pollFor(
      `${n} replicas holding the ${o.shards} shards evenly`,
      async () => {
        const ls = await leases(stack.kube, ns, id, o.shards);
        const ok = identities.every((r) => ls.filter((l) => l.holder === r).length <= want);
        return ls.every((l) => l.holder !== undefined) && ok ? ls : undefined;
      },
      startMs,
      500,
    );
    const arm0 = await settled(ops, 600_000 + o.grants * n * 3);
    await dumpMetrics(ops, identities, "settled");
    const settleS = round((Date.now() - startedAt) / 1000, 10);
    const settledStats = await stack.emulator.admin.stats();
    const proc0 = ops.map((op) => op.proc());
    const burstS = await burst(stack, ns, o, n, subs);
    // One resync period after the burst: every replica's own NSGs read once more.
    await sleep(o.intervalS * 1000);
    await quiet(ops, 600_000);
    const arm1 = await Promise.all(ops.map(async (op) => armCalls(await op.metrics())));
    const perReplica = identities.map((identity, i): ReplicaWork => {
      const shards = balanced.flatMap((l, s) => (l.holder === identity ? [s] : []));
      return {
        identity,
        shards,
        nsgs_owned: keys.filter((k) => shards.includes(shardOf(k, o.shards))).length,
        start_arm_reads: arm0[i]?.reads ?? 0,
        start_arm_writes: arm0[i]?.writes ?? 0,
        start_cpu_s: round(proc0[i]?.cpuSeconds ?? 0),
        arm_reads: (arm1[i]?.reads ?? 0) - (arm0[i]?.reads ?? 0),
        arm_writes: (arm1[i]?.writes ?? 0) - (arm0[i]?.writes ?? 0),
        cpu_s: round((ops[i]?.proc().cpuSeconds ?? 0) - (proc0[i]?.cpuSeconds ?? 0)),
        peak_rss_mib: round(ops[i]?.proc().peakRssMiB ?? 0, 10),
      };
    });
    const stats1 = await stack.emulator.admin.stats();
    const calls = perReplica.map((r) => r.arm_reads + r.arm_writes);
    const mean = calls.reduce((a, b) => a + b, 0) / calls.length;
    const f = n < 2 ? undefined : await failover(stack, ns, id, o.shards, balanced, identities, ops);
    return {
      replicas: n,
      per_replica: perReplica,
      max_over_mean_arm_calls: mean === 0 ? 1 : round(Math.max(...calls) / mean),
      settle_s: settleS,
      burst_active_s: burstS,
      throttled: {
        reads: stats1.throttledReads - stats0.throttledReads,
        writes: stats1.throttledWrites - stats0.throttledWrites,
      },
      start_throttled_reads: settledStats.throttledReads - stats0.throttledReads,
      start_operations: operationsBetween(stats0.byOperation, settledStats.byOperation),
      burst_operations: operationsBetween(settledStats.byOperation, stats1.byOperation),
      failover_ms: f?.ms ?? null,
      failover_arm_reads: f?.reads ?? null,
      failover_throttled_reads: f?.throttledReads ?? null,
    };
  } catch (err) {
    const tails = ops.map((op, i) => `--- ${identities[i] ?? ""} ---\n${op.logs(3000)}`).join("\n");
    throw new Error(`${(err as Error).message}\n${tails}`, { cause: err });
  } finally {
    for (const op of ops) await op.stop();
  }
}

/** BENCH_LOG_DIR set: each replica's /metrics as of `phase`, beside its log (diagnosis). */
async function dumpMetrics(ops: OperatorProcess[], identities: string[], phase: string): Promise<void> {
  const dir = process.env.BENCH_LOG_DIR;
  if (dir === undefined || dir === "") return;
  for (const [i, op] of ops.entries()) {
    const lines = [...(await op.metrics())].map(([k, v]) => `${k} ${String(v)}`);
    writeFileSync(join(dir, `${identities[i] ?? i}-${phase}.metrics`), `${lines.join("\n")}\n`);
  }
}

interface Failover {
  ms: number;
  /** Survivor identity -> ARM reads from the SIGKILL until the survivors settled again. */
  reads: Record<string, number>;
  throttledReads: number;
}

/**
 * SIGKILL the last replica holding no shard 0; the time until all its shards are held again, and
 * what the survivors read to take them over (until their queues settle).
 */
async function failover(
  stack: Stack,
  ns: string,
  id: string,
  shards: number,
  balanced: Lease[],
  identities: string[],
  ops: OperatorProcess[],
): Promise<Failover> {
  const victim = identities.findLastIndex((r) => r !== balanced[0]?.holder);
  const name = identities[victim] ?? "";
  const survivors = ops.filter((_, i) => i !== victim);
  const before = await Promise.all(survivors.map(async (op) => armCalls(await op.metrics())));
  const stats0 = await stack.emulator.admin.stats();
  const killedAt = Date.now();
  ops[victim]?.child.proc.kill("SIGKILL");
  const moved = await pollFor(
    "the killed replica's shards held again",
    async () => {
      const ls = await leases(stack.kube, ns, id, shards);
      return ls.every((l) => l.holder !== undefined && l.holder !== name) ? ls : undefined;
    },
    60_000,
    100,
  );
  const mine = balanced.flatMap((l, s) => (l.holder === name ? [s] : []));
  const ms = Math.max(...mine.map((s) => (moved[s]?.acquiredAt ?? NaN) - killedAt));
  const after = await settled(survivors, 600_000);
  const stats1 = await stack.emulator.admin.stats();
  const reads: Record<string, number> = {};
  for (const [i, op] of survivors.entries())
    reads[identities[ops.indexOf(op)] ?? ""] = (after[i]?.reads ?? 0) - (before[i]?.reads ?? 0);
  return { ms, reads, throttledReads: stats1.throttledReads - stats0.throttledReads };
}

export async function runShards(stack: Stack, o: ShardsOptions): Promise<ShardsResults> {
  const ns = `bench-shards-${Date.now().toString(36)}`;
  stack.log(
    `shards: seeding ${o.nsgs} NSGs, ${o.grants} grants; ${o.shards} shards over ${o.replicas.join(", ")} replicas`,
  );
  // Subscriptions of the scenario's own (marker 5ba4d5), so an estate run of the same size on the
  // same emulator never lists these NSGs.
  const subs =
    (o.subscriptions ?? 1) === 1 ? [RESYNC_SUB] : estateSubscriptions(o.nsgs, o.subscriptions ?? 1, "5ba4d5");
  await seed(
    stack,
    ns,
    { nsgs: o.nsgs, grants: o.grants, policies: o.policies, intervalS: o.intervalS },
    subs,
  );
  await createNamespace(stack.kube, ns, subs).catch(() => undefined);
  const keys = Array.from({ length: o.nsgs }, (_, i) =>
    nsgKey(nsgId(`bench-resync-${i}`, subs[i % subs.length])),
  );
  const runs: ShardsRun[] = [];
  for (const n of o.replicas) {
    const r = await runReplicas(stack, ns, o, n, keys, subs);
    stack.log(
      `  ${n} replica(s), settled in ${r.settle_s} s: ${r.per_replica.map((p) => `${p.nsgs_owned} NSGs start ${p.start_arm_reads}r/${p.start_arm_writes}w ${p.start_cpu_s} CPU s, then ${p.arm_reads}r/${p.arm_writes}w ${p.cpu_s} CPU s, peak RSS ${p.peak_rss_mib} MiB`).join("; ")}; burst Active in ${r.burst_active_s} s; failover ${r.failover_ms ?? "-"} ms, then ${Object.values(r.failover_arm_reads ?? {}).join("/") || "-"}r, ${r.failover_throttled_reads ?? "-"} throttled; throttled ${r.throttled.reads}r/${r.throttled.writes}w (${r.start_throttled_reads}r at start); start ${JSON.stringify(r.start_operations)}; burst window ${JSON.stringify(r.burst_operations)}`,
    );
    runs.push(r);
  }
  return {
    nsgs: o.nsgs,
    grants: o.grants,
    subscriptions: subs.length,
    shards: o.shards,
    burst: o.burst,
    naive: { resync_reads: o.nsgs, burst_writes: o.burst },
    lease_duration_s: LEASE.duration,
    retry_period_s: LEASE.retry,
    runs,
  };
}

/**
 * "20000/10000/8[/H]": the shards scenario at NSGs/grants over S subscriptions (default 8), each
 * replica with an old-space limit of H MiB (default: the shipped one, 1,024 from 10,000 NSGs).
 */
export function parseShardSize(text: string, base: ShardsOptions): ShardsOptions {
  const m = /^\s*(\d+)\/(\d+)(?:\/(\d+)(?:\/(\d+))?)?\s*$/.exec(text);
  if (m === null)
    throw new Error(
      `--shard-size: "${text}" is not NSGs/grants[/subscriptions[/heap MiB]] (e.g. 20000/10000/8)`,
    );
  const nsgs = Number(m[1]);
  const grants = Number(m[2]);
  const subscriptions = m[3] === undefined ? 8 : Number(m[3]);
  const heapMiB = m[4] === undefined ? undefined : Number(m[4]);
  if (heapMiB !== undefined && (heapMiB < 128 || heapMiB > 16_384))
    throw new Error(`--shard-size: heap ${heapMiB} MiB outside 128..16384`);
  if (nsgs < 1 || nsgs > 0xffff) throw new Error(`--shard-size: ${nsgs} NSGs outside 1..65535`);
  // The burst's sources start at 100,000 (see burst()).
  if (grants > 100_000) throw new Error(`--shard-size: ${grants} grants above the limit of 100,000`);
  if (subscriptions < 1 || subscriptions > 64)
    throw new Error(`--shard-size: ${subscriptions} subscriptions outside 1..64`);
  // The base's heap was chosen for its own size: a new size gets the heap of its own size.
  const sized: ShardsOptions = { ...base };
  delete sized.heapMiB;
  return {
    ...sized,
    nsgs,
    grants,
    subscriptions,
    policies: Math.ceil(nsgs / 100),
    burst: Math.min(base.burst, nsgs),
    intervalS: nsgs >= 10_000 ? 60 : base.intervalS,
    // In the shipped 256 MiB heap a 20,000-NSG replica collects back to back (0.45-0.55 s each) and
    // misses its 10 s renew deadline (docs/operations.md, Sizing): give it room, as a user would.
    ...(nsgs >= 10_000 ? { heapMiB: 1024 } : {}),
    ...(heapMiB === undefined ? {} : { heapMiB }),
  };
}

/** Requests per operation counted between two emulator stats snapshots (operations with none left out). */
function operationsBetween(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(after)) {
    const d = n - (before[op] ?? 0);
    if (d > 0) out[op] = d;
  }
  return out;
}
