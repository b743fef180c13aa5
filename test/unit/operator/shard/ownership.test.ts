import { describe, expect, it } from "@jest/globals";
import { ShardOwnership } from "../../../../src/operator/shard/ownership.ts";

function keyIn(o: ShardOwnership, shard: number): string {
  for (let i = 0; ; i++) if (o.shardOf(`nsg-${String(i)}`) === shard) return `nsg-${String(i)}`;
}

describe("ShardOwnership", () => {
  it("runs a reconcile only for keys of held shards; shard 0 makes the decider", async () => {
    const o = new ShardOwnership(4);
    const k1 = keyIn(o, 1);
    expect(o.whileOwned(k1, () => Promise.resolve("ran"))).toBeUndefined();
    o.add(1);
    expect(await o.whileOwned(k1, () => Promise.resolve("ran"))).toBe("ran");
    expect(o.isDecider()).toBe(false);
    o.add(0);
    expect(o.isDecider()).toBe(true);
  });

  it("drop stops new reconciles at once and resolves only after the in-flight ones settled", async () => {
    const o = new ShardOwnership(4);
    o.add(2);
    const k = keyIn(o, 2);
    let finish: () => void = () => undefined;
    const running = o.whileOwned(k, () => new Promise<void>((r) => (finish = r)));
    const order: string[] = [];
    const dropped = o.drop(2).then(() => order.push("dropped"));
    expect(o.owns(k)).toBe(false);
    expect(o.whileOwned(k, () => Promise.resolve())).toBeUndefined();
    await Promise.resolve();
    expect(order).toEqual([]);
    order.push("write finished");
    finish();
    await running;
    await dropped;
    expect(order).toEqual(["write finished", "dropped"]);
  });

  it("drops a shard with nothing in flight at once", async () => {
    const o = new ShardOwnership(2);
    o.add(1);
    await expect(o.drop(1)).resolves.toBeUndefined();
    expect(o.held()).toEqual([]);
  });
});
