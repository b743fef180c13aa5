import { describe, expect, it } from "@jest/globals";
import { liveReplicas, planShards } from "../../../src/runtime/shard-plan.ts";
import type { LeaseView } from "../../../src/runtime/shard-plan.ts";

const free: LeaseView = { holder: undefined, expired: true };
const by = (holder: string, expired = false): LeaseView => ({ holder, expired });

describe("planShards", () => {
  it("lets a lone replica take every shard, shard 0 first", () => {
    expect(planShards({ self: "a", shards: [free, free, free, free], members: ["a"] })).toEqual({
      target: 4,
      acquire: [0, 1, 2, 3],
      release: [],
    });
  });

  it("takes at most ceil(shards / live members)", () => {
    const p = planShards({ self: "b", shards: [by("a"), free, free, free], members: ["a", "b"] });
    expect(p).toEqual({ target: 2, acquire: [1, 2], release: [] });
    const q = planShards({
      self: "c",
      shards: [by("a"), by("b"), free, free, free],
      members: ["a", "b", "c"],
    });
    expect(q.acquire).toEqual([2, 3]);
  });

  it("gives back shards above its target when a live member holds fewer than floor, never shard 0", () => {
    const all = [by("a"), by("a"), by("a"), by("a")];
    expect(planShards({ self: "a", shards: all, members: ["a", "b"] })).toEqual({
      target: 2,
      acquire: [],
      release: [3, 2],
    });
    // Alone, it keeps them all; with a fair split (2/1/1 of 4 over 3) nobody moves.
    expect(planShards({ self: "a", shards: all, members: ["a"] }).release).toEqual([]);
    const fair = [by("a"), by("a"), by("b"), by("c")];
    expect(planShards({ self: "a", shards: fair, members: ["a", "b", "c"] }).release).toEqual([]);
  });

  it("does not release while a shard is free: the starving member takes that one first", () => {
    const shards = [by("a"), by("a"), by("a"), free];
    expect(planShards({ self: "a", shards, members: ["a", "b"] }).release).toEqual([]);
  });

  it("takes a dead replica's expired shards once its member slot expired too", () => {
    const shards = [by("a", true), by("b"), by("a", true), by("b")];
    // Its slot still live: the target stays 2 and b, at target, waits.
    expect(planShards({ self: "b", shards, members: ["a", "b"] }).acquire).toEqual([]);
    expect(planShards({ self: "b", shards, members: ["b"] }).acquire).toEqual([0, 2]);
  });
});

describe("liveReplicas", () => {
  it("counts self, the live members and the holders of unexpired shards, each once", () => {
    expect(liveReplicas({ self: "a", shards: [free, free, free, free], members: [] })).toBe(1);
    expect(
      liveReplicas({ self: "a", shards: [by("a"), by("a"), by("b"), by("b")], members: ["a", "b"] }),
    ).toBe(2);
    // A member holding no shard counts (its resync still lists every subscription).
    expect(
      liveReplicas({ self: "c", shards: [by("a"), by("a"), by("b"), by("b")], members: ["a", "b", "c"] }),
    ).toBe(3);
    // A holder whose slot was not seen still counts; an expired holder does not.
    expect(liveReplicas({ self: "a", shards: [by("a"), by("d"), by("e", true), free], members: ["a"] })).toBe(
      2,
    );
  });
});
