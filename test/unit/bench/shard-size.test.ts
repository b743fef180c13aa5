// The shards scenario's `--shard-size`: NSGs/grants over S subscriptions of the scenario's own.
import { describe, expect, it } from "@jest/globals";
import { estateSubscriptions } from "../../../bench/estate.ts";
import { FULL } from "../../../bench/profiles.ts";
import { parseShardSize } from "../../../bench/scenarios/shards.ts";

describe("parseShardSize", () => {
  it("sizes the estate, one policy per 100 NSGs, 8 subscriptions unless given", () => {
    const o = parseShardSize("20000/10000", FULL.shards);
    expect(o).toMatchObject({ nsgs: 20_000, grants: 10_000, policies: 200, subscriptions: 8, intervalS: 60 });
    expect(o.replicas).toEqual(FULL.shards.replicas);
    expect(o.heapMiB).toBe(1024);
    expect(parseShardSize("2000/10000", FULL.shards).heapMiB).toBeUndefined();
    expect(parseShardSize("40/80/2", FULL.shards)).toMatchObject({ subscriptions: 2, burst: 40 });
  });

  it("takes each replica's heap MiB as a fourth field", () => {
    expect(parseShardSize("20000/100000/8/384", FULL.shards)).toMatchObject({
      grants: 100_000,
      subscriptions: 8,
      heapMiB: 384,
    });
    expect(parseShardSize("2000/1000/1/512", FULL.shards).heapMiB).toBe(512);
    expect(() => parseShardSize("2000/1000/1/64", FULL.shards)).toThrow(/heap 64 MiB outside 128\.\.16384/);
  });

  it("names the flag and the limit on bad input", () => {
    expect(() => parseShardSize("20000", FULL.shards)).toThrow(/--shard-size: "20000" is not NSGs\/grants/);
    expect(() => parseShardSize("70000/10", FULL.shards)).toThrow(/70000 NSGs outside 1\.\.65535/);
    expect(() => parseShardSize("100/100001", FULL.shards)).toThrow(/above the limit of 100,000/);
    expect(() => parseShardSize("100/100/0", FULL.shards)).toThrow(/0 subscriptions outside 1\.\.64/);
  });
});

describe("estateSubscriptions marker", () => {
  it("keeps two scenarios of the same size in different subscriptions", () => {
    const estate = estateSubscriptions(20_000, 8);
    const shards = estateSubscriptions(20_000, 8, "5ba4d5");
    expect(new Set([...estate, ...shards]).size).toBe(16);
    expect(shards.every((s) => s.slice(-12).startsWith("5ba4d5"))).toBe(true);
  });
});
