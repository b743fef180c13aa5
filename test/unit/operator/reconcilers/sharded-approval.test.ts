// Sharded: the decider does not hold its approval write for a rule only another replica can write:
// that replica plans from the API (the in-flight approval is this process's), so the rule cannot
// come before the approval lands.
import { afterEach, expect, it } from "@jest/globals";
import { ShardOwnership } from "../../../../src/operator/shard/ownership.ts";
import { nsgKey } from "../../../../src/operator/state/keys.ts";
import { NSG, sshPolicy, sshRequest } from "./bench.ts";
import { Stack } from "./stack.ts";

let s: Stack | undefined;
afterEach(async () => {
  await s?.stop();
}, 30_000);

it("a decider not holding the NSG's shard sends the approval without waiting for a rule only the owner can write", async () => {
  const count = [2, 3, 4, 5].find((n) => new ShardOwnership(n).shardOf(nsgKey(NSG)) !== 0) ?? 0;
  const shards = new ShardOwnership(count);
  shards.add(0); // deciding, not holding the NSG's shard
  s = new Stack({ sharding: shards });
  s.azure.addNsg(NSG, []);
  s.create("JitPolicy", sshPolicy());
  s.start();
  await s.run(3000);
  s.create("AccessRequest", sshRequest("r1"));
  // Finalizer + approval are two in-memory writes: well under 1 s before this change.
  let waited = 0;
  while (s.request("r1")?.status?.startTime === undefined && waited < 5000) {
    await s.run(100);
    waited += 100;
  }
  // Holding it for the rule would take the whole grant wait (2 s).
  expect(waited).toBeLessThan(1000);
}, 30_000);
