// The sharding scenario in the results: its checks, the headline per replica count and the markdown
// table. Targets (docs/performance.md, "Sharding"): a burst's new rules are written once each, by
// one replica (never by two shards); ARM's throttle is never met; a killed replica's shards are held
// again within the lease duration plus one retry period (the survivors try to acquire every retry
// period, so a Lease that lapsed just after a try waits for the next one).
import type { Check } from "./report.ts";
import type { ShardsResults, ShardsRun } from "./scenarios/shards.ts";

export interface ShardsPoint {
  replicas: number;
  settle_s: number;
  /** per replica, in the order of per_replica */
  nsgs_owned: number[];
  burst_writes: number[];
  cpu_s: number[];
  start_cpu_s: number[];
  peak_rss_mib: number[];
  max_over_mean_arm_calls: number;
  burst_active_s: number;
  failover_ms: number | null;
  throttled: number;
}

export type ShardsHeadline = Pick<
  ShardsResults,
  "nsgs" | "grants" | "subscriptions" | "shards" | "burst" | "naive" | "lease_duration_s"
> & { runs: ShardsPoint[] };

/** The emulator's 429s, reads and writes, over a run. */
const throttledOf = (r: ShardsRun): number => r.throttled.reads + r.throttled.writes;

export function shardsHeadline(s: ShardsResults | undefined): ShardsHeadline | null {
  if (s === undefined) return null;
  return {
    nsgs: s.nsgs,
    grants: s.grants,
    subscriptions: s.subscriptions,
    shards: s.shards,
    burst: s.burst,
    naive: s.naive,
    lease_duration_s: s.lease_duration_s,
    runs: s.runs.map((r) => ({
      replicas: r.replicas,
      settle_s: r.settle_s,
      nsgs_owned: r.per_replica.map((p) => p.nsgs_owned),
      burst_writes: r.per_replica.map((p) => p.arm_writes),
      cpu_s: r.per_replica.map((p) => p.cpu_s),
      start_cpu_s: r.per_replica.map((p) => p.start_cpu_s),
      peak_rss_mib: r.per_replica.map((p) => p.peak_rss_mib),
      max_over_mean_arm_calls: r.max_over_mean_arm_calls,
      burst_active_s: r.burst_active_s,
      failover_ms: r.failover_ms,
      throttled: throttledOf(r),
    })),
  };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

function runChecks(s: ShardsResults, r: ShardsRun): Check[] {
  const at = `shards, ${s.nsgs} NSGs / ${s.grants} grants, ${r.replicas} replica(s)`;
  const writes = r.per_replica.map((p) => p.arm_writes);
  const out: Check[] = [
    {
      measure: `ARM writes in the burst of ${s.burst} new requests (one per NSG) and a resync, ${at}`,
      value: `${sum(writes)} (${writes.join(" + ")})`,
      target: `${s.burst}: each new rule written once, by one replica`,
      pass: sum(writes) === s.burst,
    },
    {
      measure: `ARM throttled (429) reads / writes from start to end, ${at}`,
      value: `${r.throttled.reads} / ${r.throttled.writes}`,
      target: "0 / 0",
      pass: r.throttled.reads === 0 && r.throttled.writes === 0,
    },
  ];
  if (r.failover_ms !== null) {
    const bound = (s.lease_duration_s + s.retry_period_s) * 1000;
    out.push({
      measure: `failover (SIGKILL of a replica -> its shards held again), ${at}`,
      value: `${r.failover_ms} ms`,
      target: `<= lease ${s.lease_duration_s} s + retry period ${s.retry_period_s} s`,
      pass: r.failover_ms <= bound,
    });
  }
  return out;
}

export function shardsChecks(s: ShardsResults): Check[] {
  return s.runs.flatMap((r) => runChecks(s, r));
}

const list = (xs: (number | string)[]): string => xs.join(" / ");

export function shardsTable(s: ShardsResults): string[] {
  return [
    `${s.nsgs} NSGs / ${s.grants} grants over ${s.subscriptions} subscriptions, ${s.shards} shards, Leases of ${s.lease_duration_s} s; a burst of ${s.burst} new requests, then one resync period${s.naive === undefined ? "" : ` (the naive design: ${s.naive.resync_reads} reads per resync, one GET per NSG, and ${s.naive.burst_writes} writes, one per request, over all replicas)`}. Per replica; * holds shard 0 and so decides requests:`,
    "",
    "| replicas | settled | NSGs owned | start-up CPU s | burst + resync reads / writes | CPU s | peak RSS MiB | busiest / mean ARM calls | burst Active | failover | 429s |",
    "|---:|---:|---|---|---|---|---|---:|---:|---:|---:|",
    ...s.runs.map(
      (r) =>
        `| ${r.replicas} | ${r.settle_s} s | ${list(r.per_replica.map((p) => `${p.nsgs_owned}${p.shards.includes(0) ? "*" : ""}`))} | ${list(r.per_replica.map((p) => p.start_cpu_s))} | ${r.per_replica.map((p) => `${p.arm_reads} / ${p.arm_writes}`).join(", ")} | ${list(r.per_replica.map((p) => p.cpu_s))} | ${list(r.per_replica.map((p) => p.peak_rss_mib))} | ${r.max_over_mean_arm_calls} | ${r.burst_active_s} s | ${r.failover_ms === null ? "-" : `${r.failover_ms} ms`} | ${throttledOf(r)} |`,
    ),
  ];
}
