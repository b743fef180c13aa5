// What a full and a quick run measure. Quick is the CI smoke test (< 3 minutes on an idle
// 2-core machine): the same scenarios on the same stack, scaled down.
import type { EstateSize } from "./scenarios/estate.ts";
import type { ShardsOptions } from "./scenarios/shards.ts";

export interface Profile {
  name: "full" | "quick";
  latency: { concurrency: number[]; writeLatencyMs: number[]; duration: string; bareRequests?: boolean };
  burst: { requests: number; nsgs: number; writeLatencyMs: number; duration: string };
  resync: { nsgs: number; grants: number; policies: number; intervalS: number; subscriptions?: number };
  /** The cost curve up to ten times the estate (full); none in quick. */
  estate: EstateSize[];
  /** Sharding (bench/scenarios/shards.ts): the resync estate's size by default. */
  shards: ShardsOptions;
  plannerIterations: number;
}

export const FULL: Profile = {
  name: "full",
  latency: { concurrency: [1, 10, 100, 1000], writeLatencyMs: [0, 2000], duration: "PT10S" },
  burst: { requests: 500, nsgs: 5, writeLatencyMs: 1000, duration: "PT1H" },
  resync: { nsgs: 2000, grants: 10_000, policies: 20, intervalS: 30 },
  estate: [
    { nsgs: 100, grants: 500, policies: 1, subscriptions: 8, intervalS: 20 },
    { nsgs: 2000, grants: 10_000, policies: 20, subscriptions: 8, intervalS: 30 },
    {
      nsgs: 20_000,
      grants: 100_000,
      policies: 200,
      subscriptions: 8,
      intervalS: 60,
      timeoutMs: 1_800_000,
      // The heap in which resync CPU (<= 10 s) and peak RSS (<= 512 MiB) are both met: V8 grows
      // RSS up to the heap it may use (docs/performance.md, "Ten times the estate").
      heapMiB: 384,
    },
  ],
  // Ten times the estate, as the sharding target asks: 1, 2 and 4 replicas over 4 shards, each
  // replica in a 1 GiB heap (a 20,000-NSG replica in the shipped 256 MiB misses its renew deadline).
  shards: {
    nsgs: 20_000,
    grants: 100_000,
    policies: 200,
    subscriptions: 8,
    shards: 4,
    replicas: [1, 2, 4],
    burst: 200,
    intervalS: 60,
    heapMiB: 1024,
  },
  plannerIterations: 500,
};

export const QUICK: Profile = {
  name: "quick",
  latency: { concurrency: [1, 10], writeLatencyMs: [0, 500], duration: "PT10S" },
  burst: { requests: 50, nsgs: 5, writeLatencyMs: 200, duration: "PT1H" },
  // The multi-subscription path is smoked by the resync scenario (2 subscriptions); the estate
  // scenario's sizes would add a minute to the 3-minute budget.
  resync: { nsgs: 100, grants: 300, policies: 1, intervalS: 8, subscriptions: 2 },
  estate: [],
  // Not in a quick run unless asked for (--only shards): two operator starts per replica count.
  shards: { nsgs: 40, grants: 80, policies: 1, shards: 4, replicas: [1, 2], burst: 8, intervalS: 8 },
  // Five batches of 50 (bench/planner.ts takes their median): one batch alone is decided by whatever
  // else the machine does in its 50 ms, as right after CI's test suites.
  plannerIterations: 250,
};
