// The sharding scenario's checks: a rule written twice (or not at all), a 429 or a slow failover
// must be reported as missed; the headline keeps one point per replica count.
import { describe, expect, it } from "@jest/globals";
import { shardsChecks, shardsHeadline, shardsTable } from "../../../bench/shards-report.ts";
import type { ReplicaWork, ShardsResults, ShardsRun } from "../../../bench/scenarios/shards.ts";

function replica(writes: number, i: number): ReplicaWork {
  return {
    identity: `r-${i}`,
    shards: [i],
    nsgs_owned: 100,
    start_arm_reads: 8,
    start_arm_writes: 0,
    start_cpu_s: 1.5,
    arm_reads: 10,
    arm_writes: writes,
    cpu_s: 0.5,
    peak_rss_mib: 150,
  };
}

function run(writes: number[], failoverMs: number | null, throttledReads = 0): ShardsRun {
  return {
    replicas: writes.length,
    per_replica: writes.map((w, i) => replica(w, i)),
    max_over_mean_arm_calls: 1.1,
    settle_s: 12,
    burst_active_s: 3,
    throttled: { reads: throttledReads, writes: 0 },
    start_throttled_reads: 0,
    start_operations: {},
    burst_operations: {},
    failover_ms: failoverMs,
    failover_arm_reads: null,
    failover_throttled_reads: null,
  };
}

function results(runs: ShardsRun[]): ShardsResults {
  return {
    nsgs: 400,
    grants: 2000,
    subscriptions: 8,
    shards: 4,
    burst: 20,
    naive: { resync_reads: 400, burst_writes: 20 },
    lease_duration_s: 15,
    retry_period_s: 2,
    runs,
  };
}

const failed = (r: ShardsResults): string[] =>
  shardsChecks(r)
    .filter((c) => !c.pass)
    .map((c) => c.measure);

describe("shardsChecks", () => {
  it("meets every target when each new rule is written once, nothing is throttled and failover is in time", () => {
    const r = results([run([20], null), run([9, 11], 16_900), run([5, 5, 6, 4], 15_200)]);
    expect(failed(r)).toEqual([]);
    // No failover check with one replica: nothing to fail over to.
    expect(shardsChecks(r)).toHaveLength(2 + 3 + 3);
  });

  it("reports a rule written by two replicas, a missing write, a 429 and a failover past lease + retry", () => {
    const r = results([run([21], null), run([9, 10], 17_001), run([5, 5, 5, 5], 15_000, 1)]);
    const misses = failed(r);
    expect(misses).toHaveLength(4);
    expect(misses[0]).toMatch(/ARM writes .* 1 replica/);
    expect(misses.filter((m) => m.includes("2 replica"))).toHaveLength(2);
    expect(misses[3]).toMatch(/throttled .* 4 replica/);
  });
});

describe("shardsHeadline and shardsTable", () => {
  it("keeps one point per replica count, per-replica figures in replica order", () => {
    const r = results([run([20], null), run([9, 11], 16_000)]);
    const h = shardsHeadline(r);
    expect(h?.runs.map((p) => p.replicas)).toEqual([1, 2]);
    expect(h?.runs[1]?.burst_writes).toEqual([9, 11]);
    expect(h?.runs[1]?.failover_ms).toBe(16_000);
    expect(shardsHeadline(undefined)).toBeNull();
    const table = shardsTable(r);
    expect(table.filter((l) => l.startsWith("| 2 |"))).toHaveLength(1);
    expect(table.join("\n")).toContain("16000 ms");
    expect(table[0]).toContain("the naive design: 400 reads per resync");
    // Shard 0's holder decides requests: marked, and only it.
    expect(table.filter((l) => l.includes("100*"))).toHaveLength(2);
  });
});
