// A shard taken over (ADR 0018), end to end in process: the replica's resync listed the NSG while
// another replica held its shard, that replica then wrote it, and this one takes the shard. The NSG
// is planned from a list begun after the take-over (no GET, and the previous holder's write is seen,
// so nothing is written again); when that list fails, the NSG is read with a GET, as before.
import { afterEach, describe, expect, it } from "@jest/globals";
import type { SecurityRule } from "../../../../src/core/index.ts";
import { FIRST_LOOK_MS } from "../../../../src/operator/nsg/observe.ts";
import { ShardOwnership } from "../../../../src/operator/shard/ownership.ts";
import { nsgKey } from "../../../../src/operator/state/keys.ts";
import { throttled } from "../../../support/memory-azure.ts";
import type { JitPolicy } from "./bench.ts";
import { NSG, sshPolicy, sshRequest } from "./bench.ts";
import { Stack } from "./stack.ts";

let stacks: Stack[] = [];

afterEach(async () => {
  for (const s of stacks) await s.stop();
  stacks = [];
});

/**
 * What the replica holding the NSG's shard (and deciding) leaves: the policy with its signed
 * resolution, and the rules it wrote for it (the baseline deny).
 */
async function holder(): Promise<{ policy: JitPolicy; rules: SecurityRule[] }> {
  const h = new Stack();
  stacks.push(h);
  h.azure.addNsg(NSG, []);
  h.create("JitPolicy", sshPolicy());
  h.start();
  await h.run(2000);
  expect(h.rules()).toEqual(["deny-tcp@199"]);
  const policy = h.policy();
  if (policy === undefined) throw new Error("the holder's policy is gone");
  return { policy: structuredClone(policy), rules: h.azure.rules(NSG) };
}

/**
 * A replica that holds no shard (and does not decide); its first resync has listed the NSG as it
 * was before the holder wrote.
 */
async function replica(policy: JitPolicy): Promise<{ s: Stack; shards: ShardOwnership; shard: number }> {
  const shards = new ShardOwnership(2);
  const s = new Stack({ sharding: shards });
  stacks.push(s);
  s.azure.addNsg(NSG, []);
  s.create("JitPolicy", policy);
  s.start();
  await s.run(2000);
  expect(s.azure.calls.filter((c) => c.startsWith("listNsgs"))).toHaveLength(1);
  expect(s.writes()).toEqual([]);
  return { s, shards, shard: shards.shardOf(nsgKey(NSG)) };
}

const calls = (s: Stack, op: string): number => s.azure.calls.filter((c) => c.startsWith(`${op} `)).length;

describe("shard take-over", () => {
  it("plans the shard's NSGs from a list begun after the take-over: no GET, the holder's write seen", async () => {
    const { policy, rules } = await holder();
    const { s, shards, shard } = await replica(policy);
    // The previous holder writes the NSG after our list.
    for (const r of rules) s.azure.foreignPut(NSG, r);
    shards.add(shard);
    s.controller.wakeShard(shard);
    await s.run(2000);
    expect(calls(s, "listNsgs")).toBe(2);
    expect(calls(s, "getNsg")).toBe(0);
    // Planned from the older list, the deny would be written again.
    expect(s.writes()).toEqual([]);
    expect(s.controller.ledger.get(nsgKey(NSG))?.basis?.etag).toBe(s.azure.etag(NSG));
  });

  it("a resync listing at the take-over is not planned from, nor does its end read the NSG", async () => {
    const { policy, rules } = await holder();
    const shards = new ShardOwnership(2);
    const s = new Stack({ sharding: shards });
    stacks.push(s);
    s.azure.addNsg(NSG, []);
    s.create("JitPolicy", policy);
    // The first resync's list is answered only when released, with the NSG as it was when asked.
    const list = s.azure.listNsgs.bind(s.azure);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    s.azure.listNsgs = async (sub) => {
      const docs = await list(sub);
      if (calls(s, "listNsgs") === 1) await held;
      return docs;
    };
    s.start();
    await s.run(500);
    for (const r of rules) s.azure.foreignPut(NSG, r);
    const shard = shards.shardOf(nsgKey(NSG));
    shards.add(shard);
    s.controller.wakeShard(shard);
    await s.run(500);
    expect(calls(s, "listNsgs")).toBe(1);
    // The resync ends and queues the NSG (its shard is held now): it waits for the take-over list.
    release();
    await s.run(2000);
    expect(calls(s, "listNsgs")).toBe(2);
    expect(calls(s, "getNsg")).toBe(0);
    expect(s.writes()).toEqual([]);
  });

  it("a failed take-over list falls back to one GET per NSG", async () => {
    const { policy, rules } = await holder();
    const { s, shards, shard } = await replica(policy);
    for (const r of rules) s.azure.foreignPut(NSG, r);
    s.azure.fail("listNsgs", () => throttled(1000));
    shards.add(shard);
    s.controller.wakeShard(shard);
    await s.run(2000);
    expect(calls(s, "listNsgs")).toBe(2);
    expect(calls(s, "getNsg")).toBe(1);
    expect(s.writes()).toEqual([]);
  });

  it("an NSG of the shard that is gone is read with a GET (not found there)", async () => {
    const { policy } = await holder();
    const { s, shards, shard } = await replica(policy);
    s.azure.removeNsg(NSG);
    shards.add(shard);
    s.controller.wakeShard(shard);
    await s.run(2000);
    expect(calls(s, "listNsgs")).toBe(2);
    expect(calls(s, "getNsg")).toBe(1);
    expect(s.writes()).toEqual([]);
  });
});

describe("the decider observing an NSG of another shard", () => {
  it("looks a moment after the wake, not at once (the owner cannot have written yet), and then sees the rule", async () => {
    const { policy, rules } = await holder();
    // The owner's rules for the request: what an unsharded replica writes for it.
    const owner = stacks[0];
    if (owner === undefined) throw new Error("no holder stack");
    owner.create("AccessRequest", sshRequest("r1"));
    await owner.run(3000);
    expect(owner.phase("r1")).toBe("Active");
    const count = [2, 3, 4, 5].find((n) => new ShardOwnership(n).shardOf(nsgKey(NSG)) !== 0) ?? 0;
    const shards = new ShardOwnership(count);
    shards.add(0); // deciding, not holding the NSG's shard
    const s = new Stack({ sharding: shards });
    stacks.push(s);
    s.azure.addNsg(NSG, []);
    for (const r of rules) s.azure.foreignPut(NSG, r);
    s.create("JitPolicy", policy);
    s.start();
    // The NSG observed once from the start-up list (no read): as planned.
    s.controller.nsgQueue.add(nsgKey(NSG));
    // Up to the fake time of the owner's request, so both plan the same rule for it.
    await s.run(owner.clock.now().getTime() - 3000 - s.clock.now().getTime());
    const before = calls(s, "getNsg");
    s.create("AccessRequest", sshRequest("r1"));
    // Approved at the same fake time as the owner's, so both plan the same rule for it.
    await s.run(FIRST_LOOK_MS - 100);
    // Without the deferral the request's wakes read the NSG at once, before the owner could write.
    expect(calls(s, "getNsg")).toBe(before);
    // The owner writes; the decider's look finds the rule and the request turns Active.
    for (const r of owner.azure.rules(NSG)) s.azure.foreignPut(NSG, r);
    await s.run(3000);
    expect(calls(s, "getNsg")).toBeGreaterThan(before);
    expect(s.phase("r1")).toBe("Active");
    // The approval (written with Active once the rule is seen, ADR 0021) is the owner's: the same rule.
    expect(s.request("r1")?.status?.expiresAt).toBe(owner.request("r1")?.status?.expiresAt);
    expect(s.writes()).toEqual([]);
  });
});
