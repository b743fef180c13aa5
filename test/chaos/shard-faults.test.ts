// Sharding under a process fault (ADR 0018): 2 replicas, 4 NSG shards, a burst of requests that each
// reach every NSG; the replica holding shard 0 (the decider) and one more shard is SIGKILLed mid-burst.
// Every request still reaches its phase with its rules in every NSG, no NSG is ever written by two
// replicas in turn (A, B, A), and the dead replica's shards move within lease duration + one round.
import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { nsgKey } from "../../src/operator/state/keys.ts";
import { shardOf } from "../../src/runtime/shard-hash.ts";
import { testCluster } from "../support/cluster.ts";
import { recordFigures } from "./support/figures.ts";
import { grantedSources } from "./support/invariants.ts";
import { readNsgs } from "./support/monitor.ts";
import { ChaosStack, sleep, waitFor } from "./support/stack.ts";
import type { Replica } from "./support/operator.ts";
import { converged, countPhases, submit, workload } from "./support/workload.ts";

const SHARDS = 4;
const LEASE = { leaseDuration: "6s", renewDeadline: "4s", retryPeriod: "1s" };
const LEASE_MS = 6_000;
const RETRY_MS = 1_000;
const ID = "chaos-shards";

let stack: ChaosStack;

beforeAll(async () => {
  stack = await ChaosStack.start(testCluster(), "chaos-shard", {
    nsgs: 10,
    boundMs: 10_000,
    emulator: { latencyMs: { write: 30 } },
  });
}, 60_000);

afterAll(async () => {
  await stack.close();
}, 60_000);

interface Write {
  at: number;
  replica: string;
  nsg: string;
}

/** "NSG updated" lines of a replica's log (pino JSON: ISO time, nsg). */
function writesOf(r: Replica): Write[] {
  return r.lines('"NSG updated"').flatMap((line) => {
    try {
      const j = JSON.parse(line) as { time: string; nsg: string };
      return [{ at: Date.parse(j.time), replica: r.identity, nsg: j.nsg.toLowerCase() }];
    } catch {
      return [];
    }
  });
}

/** The live-replica counts a replica's share of the ARM budget followed (its log, in order). */
function budgetReplicas(r: Replica): number[] {
  return r.lines("sharing the subscriptions' ARM budget").flatMap((line) => {
    try {
      return [(JSON.parse(line) as { replicas: number }).replicas];
    } catch {
      return [];
    }
  });
}

/** NSGs whose writers alternate (A, then B, then A again): two replicas writing in turn. */
function interleaved(writes: Write[]): string[] {
  const byNsg = new Map<string, string[]>();
  for (const w of [...writes].sort((a, b) => a.at - b.at)) {
    const seq = byNsg.get(w.nsg) ?? [];
    if (seq.at(-1) !== w.replica) seq.push(w.replica);
    byNsg.set(w.nsg, seq);
  }
  return [...byNsg].filter(([, seq]) => new Set(seq).size !== seq.length).map(([nsg]) => nsg);
}

async function shardLeases(): Promise<{ holder: string | undefined; acquiredAt: number }[]> {
  const api = testCluster().kubeConfig("admin").makeApiClient(CoordinationV1Api);
  return Promise.all(
    [...Array(SHARDS).keys()].map(async (i) => {
      const l = await api.readNamespacedLease({ name: `${ID}-shard-${String(i)}`, namespace: stack.ns });
      return {
        holder: l.spec?.holderIdentity === "" ? undefined : l.spec?.holderIdentity,
        acquiredAt: new Date(l.spec?.acquireTime ?? 0).getTime(),
      };
    }),
  );
}

describe("sharding", () => {
  it("2 replicas, 4 shards, the decider SIGKILLed mid-burst: all Active, no rule lost, no NSG written by two", async () => {
    const leader = { id: ID, ...LEASE };
    const a = stack.startOperator({ identity: "shard-a", leader, shards: SHARDS });
    await stack.applyPolicy();
    const b = stack.startOperator({ identity: "shard-b", leader, shards: SHARDS });
    const balanced = await waitFor(
      "2 shards per replica",
      async () => {
        const ls = await shardLeases().catch(() => undefined);
        const count = (who: string): number => ls?.filter((l) => l.holder === who).length ?? 0;
        return count("shard-a") === 2 && count("shard-b") === 2 ? ls : undefined;
      },
      60_000,
      500,
    );
    const balancedAt = Date.now();
    // Both see two live replicas: each takes half of a subscription's ARM budget.
    await waitFor(
      "each replica on half the ARM budget",
      () => [a, b].every((r) => budgetReplicas(r).at(-1) === 2),
      10_000,
      200,
    );
    const decider = balanced[0]?.holder === "shard-a" ? a : b;
    const survivor = decider === a ? b : a;
    const items = workload(24);
    const submitting = submit(stack, items, { concurrency: 2, spacingMs: 250 });
    // Mid-burst: some requests Active (their NSGs written by both holders), others not yet decided.
    await waitFor(
      "a few requests Active",
      async () => (await stack.kube.listRequests()).filter((r) => r.status?.phase === "Active").length >= 4,
      60_000,
      100,
    );
    const killedAt = Date.now();
    await decider.kill();
    const moved = await waitFor(
      "the survivor holding every shard",
      async () => {
        const ls = await shardLeases().catch(() => undefined);
        return ls?.every((l) => l.holder === survivor.identity) === true ? ls : undefined;
      },
      LEASE_MS + 10 * RETRY_MS,
      100,
    );
    const failoverMs = Math.max(...moved.map((l) => l.acquiredAt)) - killedAt;
    // Alone again, the survivor takes the whole budget back.
    await waitFor(
      "the survivor on the whole ARM budget",
      () => budgetReplicas(survivor).at(-1) === 1,
      LEASE_MS + 10 * RETRY_MS,
      200,
    );
    await submitting;
    try {
      await waitFor(
        "every request in its phase with its rules in every NSG",
        async () =>
          converged(
            stack,
            await stack.kube.listRequests(),
            items,
            grantedSources(readNsgs(stack.emulator, stack.nsgIds)),
          ),
        120_000,
        1_000,
      );
    } catch (err) {
      const rs = await stack.kube.listRequests();
      process.stdout.write(`phases: ${JSON.stringify(countPhases(rs))}\n${stack.logs(60)}\n`);
      throw err;
    }
    const writes = [...writesOf(a), ...writesOf(b)];
    const perReplica = Object.fromEntries(
      [a, b].map((r) => [r.identity, new Set(writesOf(r).map((w) => w.nsg)).size]),
    );
    const apiWrites = stack.emulator.writeLog().filter((w) => w.actor === "api");
    recordFigures("sharding", {
      shards: SHARDS,
      replicas: 2,
      nsgs: stack.nsgIds.length,
      requests: items.length,
      leaseDurationMs: LEASE_MS,
      retryPeriodMs: RETRY_MS,
      failoverMs,
      nsgsWrittenPerReplica: perReplica,
      armWrites: apiWrites.length,
      loggedNsgUpdates: writes.length,
      nsgUpdatesWhileBalanced: Object.fromEntries(
        [a, b].map((r) => [
          r.identity,
          writes.filter((w) => w.replica === r.identity && w.at > balancedAt && w.at < killedAt).length,
        ]),
      ),
    });
    expect(interleaved(writes)).toEqual([]);
    // While balanced, every NSG write came from the holder of that NSG's shard.
    const window = writes.filter((w) => w.at > balancedAt && w.at < killedAt);
    const strays = window.filter((w) => balanced[shardOf(nsgKey(w.nsg), SHARDS)]?.holder !== w.replica);
    expect(strays).toEqual([]);
    // The window saw writes by both holders, or the check above proves nothing.
    expect(new Set(window.map((w) => w.replica)).size).toBe(2);
    // Before the kill each NSG was written only by its shard's holder: the killed one never wrote
    // an NSG after it died, and the survivor's pre-kill writes are to its own shards only.
    expect(writes.filter((w) => w.replica === decider.identity && w.at > killedAt)).toEqual([]);
    expect(stack.foreignTouches()).toEqual([]);
    // Only the lease had to lapse: at most LEASE_MS left at the kill, then one round (plus slack for
    // a loaded machine).
    expect(failoverMs).toBeGreaterThan(0);
    expect(failoverMs).toBeLessThanOrEqual(LEASE_MS + 2 * RETRY_MS + 1_000);
    await sleep(0);
    await survivor.stop();
  }, 300_000);
});
