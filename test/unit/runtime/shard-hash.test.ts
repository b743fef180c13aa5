import { describe, expect, it } from "@jest/globals";
import { memberLeaseName, shardLeaseName, shardOf } from "../../../src/runtime/shard-hash.ts";

function nsgKeys(count: number): string[] {
  // ARM ids share long prefixes and differ in a few characters, as real estates do.
  return Array.from(
    { length: count },
    (_, i) =>
      `/subscriptions/0000000${String(i % 7)}-0000-0000-0000-000000000000/resourcegroups/rg-${String(i % 13)}/providers/microsoft.network/networksecuritygroups/nsg-${String(i)}`,
  );
}

describe("shardOf", () => {
  it("is stable: the same key lands in the same shard in every process and release", () => {
    // Pinned (and checked against an independent SHA-256): a change moves keys between holders.
    expect(
      shardOf("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/networksecuritygroups/a", 4),
    ).toBe(
      shardOf("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/networksecuritygroups/a", 4),
    );
    expect(nsgKeys(8).map((k) => shardOf(k, 4))).toEqual([2, 1, 3, 2, 0, 3, 3, 3]);
  });

  it("puts everything in shard 0 with one shard", () => {
    expect(new Set(nsgKeys(100).map((k) => shardOf(k, 1)))).toEqual(new Set([0]));
  });

  it.each([4, 16])("spreads 8,000 NSG keys evenly over %i shards (within 10%%)", (shards) => {
    const counts = new Array<number>(shards).fill(0);
    for (const k of nsgKeys(8000)) counts[shardOf(k, shards)] = (counts[shardOf(k, shards)] ?? 0) + 1;
    const mean = 8000 / shards;
    for (const c of counts) expect(Math.abs(c - mean) / mean).toBeLessThan(0.1);
  });

  it("refuses a shard count outside 1..64, naming the limit", () => {
    expect(() => shardOf("k", 0)).toThrow("1..64");
    expect(() => shardOf("k", 65)).toThrow("1..64");
    expect(() => shardOf("k", 2.5)).toThrow("1..64");
  });

  it("names the Leases after the leader-election id", () => {
    expect(shardLeaseName("drawbridge-leader", 3)).toBe("drawbridge-leader-shard-3");
    expect(memberLeaseName("drawbridge-leader", 0)).toBe("drawbridge-leader-member-0");
  });
});
