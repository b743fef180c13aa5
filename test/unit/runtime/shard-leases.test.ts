import { describe, expect, it } from "@jest/globals";
import { Writable } from "node:stream";
import { FakeClock } from "../../../src/runtime/clock.ts";
import { LeaseConflictError } from "../../../src/runtime/lease-client.ts";
import type { LeaseClient, LeaseRecord } from "../../../src/runtime/lease-client.ts";
import { createLogger } from "../../../src/runtime/logger.ts";
import { ShardLeases } from "../../../src/runtime/shard-leases.ts";
import type { ShardCallbacks } from "../../../src/runtime/shard-leases.ts";
import { memberSlots } from "../../../src/runtime/shard-hash.ts";

/** In-memory Leases with the API server's resourceVersion semantics; `failing` simulates an outage. */
class Leases {
  readonly records = new Map<string, LeaseRecord>();
  failing = new Set<string>();
  #rv = 0;
  client(name: string): LeaseClient {
    const check = (): void => {
      if (this.failing.has(name)) throw new Error("connection refused");
    };
    return {
      get: () => {
        check();
        const r = this.records.get(name);
        return Promise.resolve(r === undefined ? undefined : { ...r });
      },
      create: (r) => {
        check();
        if (this.records.has(name)) return Promise.reject(new LeaseConflictError("exists"));
        const made = { ...r, resourceVersion: String(++this.#rv) };
        this.records.set(name, made);
        return Promise.resolve({ ...made });
      },
      update: (r) => {
        check();
        if (this.records.get(name)?.resourceVersion !== r.resourceVersion)
          return Promise.reject(new LeaseConflictError("conflict"));
        const next = { ...r, resourceVersion: String(++this.#rv) };
        this.records.set(name, next);
        return Promise.resolve({ ...next });
      },
    };
  }
  holder(name: string): string | undefined {
    return this.records.get(name)?.holderIdentity;
  }
}

const SHARDS = 4;

function replica(leases: Leases, clock: FakeClock, identity: string): ShardLeases {
  const range = [...Array(SHARDS).keys()];
  return new ShardLeases({
    shardClients: range.map((i) => leases.client(`shard-${String(i)}`)),
    slotClients: [...Array(memberSlots(SHARDS)).keys()].map((i) => leases.client(`member-${String(i)}`)),
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    logger: createLogger("silent"),
  });
}

function recorder(log: string[], who: string, leases?: Leases): ShardCallbacks {
  return {
    onAcquired: (s) => void log.push(`${who} +${String(s)}`),
    beforeRelease: (s) => {
      // The Lease is still ours while the shard's work stops: nobody else can start on it yet.
      log.push(`${who} stop ${String(s)} (lease held by ${leases?.holder(`shard-${String(s)}`) ?? "-"})`);
      return Promise.resolve();
    },
    onLost: (s) => void log.push(`${who} lost ${String(s)}`),
  };
}

function holders(leases: Leases, clock: FakeClock): (string | undefined)[] {
  const now = clock.now().getTime();
  return [...Array(SHARDS).keys()].map((i) => {
    const r = leases.records.get(`shard-${String(i)}`);
    const live = r?.renewTime !== undefined && r.renewTime.getTime() + r.leaseDurationSeconds * 1000 >= now;
    return live ? r.holderIdentity : undefined;
  });
}

/** Replicas a and b over the same Leases and clock, with one shared callback log. */
function twoReplicas(): { clock: FakeClock; leases: Leases; a: ShardLeases; b: ShardLeases; log: string[] } {
  const clock = new FakeClock(0);
  const leases = new Leases();
  return { clock, leases, a: replica(leases, clock, "a"), b: replica(leases, clock, "b"), log: [] };
}

describe("ShardLeases", () => {
  it("balances 4 shards over 2 replicas, each shard with exactly one holder", async () => {
    const clock = new FakeClock(0);
    const leases = new Leases();
    const log: string[] = [];
    const a = replica(leases, clock, "a");
    const b = replica(leases, clock, "b");
    await a.round(recorder(log, "a", leases)); // alone so far: takes all four
    expect(a.held()).toEqual([0, 1, 2, 3]);
    await b.round(recorder(log, "b", leases)); // joins: a slot, no free shard yet
    clock.advance(2_000);
    await a.round(recorder(log, "a", leases)); // sees b starving: stops, then releases 3 and 2
    await b.round(recorder(log, "b", leases));
    expect(a.held()).toEqual([0, 1]);
    expect(b.held()).toEqual([2, 3]);
    expect(holders(leases, clock)).toEqual(["a", "a", "b", "b"]);
    expect(log).toContain("a stop 3 (lease held by a)");
    expect(log.indexOf("a stop 3 (lease held by a)")).toBeLessThan(log.indexOf("b +3"));
    // Steady state: nothing moves.
    clock.advance(2_000);
    await a.round(recorder(log, "a", leases));
    await b.round(recorder(log, "b", leases));
    expect(holders(leases, clock)).toEqual(["a", "a", "b", "b"]);
  });

  it("reports the live replicas each balancing round, as they come and go", async () => {
    const { clock, a, b, log } = twoReplicas();
    const seen: string[] = [];
    const counting = (who: string): ShardCallbacks => ({
      ...recorder(log, who),
      onReplicas: (n) => void seen.push(`${who}:${String(n)}`),
    });
    await a.round(counting("a")); // alone
    await b.round(counting("b")); // sees a's slot and shards, and itself
    clock.advance(2_000);
    await a.round(counting("a")); // sees b
    expect(seen).toEqual(["a:1", "b:2", "a:2"]);
    // b dies: once its slot and shards expired, a is alone again.
    for (let t = 0; t <= 18_000; t += 2_000) {
      clock.advance(2_000);
      await a.round(counting("a"));
    }
    expect(seen.at(-1)).toBe("a:1");
  });

  it("counts a rolling update's surge replica in every replica, so the shares never add up to more than 1", async () => {
    const clock = new FakeClock(0);
    const leases = new Leases();
    // As many replicas as shards, plus the surge of a rolling update (25 % rounded up).
    const names = ["a", "b", "c", "d", "surge"];
    const all = names.map((n) => replica(leases, clock, n));
    const seen = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      for (const [i, r] of all.entries()) {
        const who = names[i] ?? "";
        await r.round({ ...recorder([], who), onReplicas: (n) => void seen.set(who, n) });
      }
      clock.advance(2_000);
    }
    expect(names.map((n) => seen.get(n))).toEqual([5, 5, 5, 5, 5]);
    expect(all.find((r) => r.held().length === 0)).toBeDefined();
  });

  it("moves a dead replica's shards to the survivor one round after the lease duration", async () => {
    const { clock, a, b, log } = twoReplicas();
    await a.round(recorder(log, "a"));
    await b.round(recorder(log, "b"));
    await a.round(recorder(log, "a"));
    await b.round(recorder(log, "b"));
    expect(b.held()).toEqual([2, 3]);
    // a dies (SIGKILL: no release). b keeps renewing every retry period.
    let t = 0;
    while (b.held().length < SHARDS) {
      clock.advance(2_000);
      t += 2_000;
      await b.round(recorder(log, "b"));
    }
    expect(b.held()).toEqual([0, 1, 2, 3]);
    expect(t).toBeGreaterThan(15_000); // never before a's Lease expired
    expect(t).toBeLessThanOrEqual(15_000 + 2 * 2_000);
  });

  it("reports a shard lost when it cannot be renewed within the renew deadline", async () => {
    const clock = new FakeClock(0);
    const leases = new Leases();
    const a = replica(leases, clock, "a");
    const log: string[] = [];
    await a.round(recorder(log, "a"));
    leases.failing.add("shard-2");
    clock.advance(4_000);
    expect(await a.round(recorder(log, "a"))).toBeUndefined(); // within the deadline: still held
    clock.advance(6_000);
    expect(await a.round(recorder(log, "a"))).toBe(2);
    // Well before the Lease could be taken by another replica (15 s after the last renewal).
    expect(clock.now().getTime()).toBeLessThan(15_000);
  });

  it("running: a renewal outage is reported lost at the renew deadline, before the lease could lapse", async () => {
    const clock = new FakeClock(0);
    const leases = new Leases();
    const a = replica(leases, clock, "a");
    const log: string[] = [];
    const lostAt: number[] = [];
    void a.run({ ...recorder(log, "a"), onLost: () => void lostAt.push(clock.now().getTime()) });
    await clock.advanceAsync(100, 50);
    expect(a.held()).toEqual([0, 1, 2, 3]);
    for (let i = 0; i < SHARDS; i++) leases.failing.add(`shard-${String(i)}`);
    await clock.advanceAsync(12_000, 250);
    expect(lostAt).toHaveLength(1);
    expect(lostAt[0]).toBeGreaterThanOrEqual(10_000); // not before the renew deadline
    expect(lostAt[0]).toBeLessThan(15_000); // and before anyone else could take the Lease
    await a.stop(recorder(log, "a"));
  });

  it("a slow renewal answer is logged, and the next renewal goes out a retry period after it was sent", async () => {
    const clock = new FakeClock(0);
    const leases = new Leases();
    const sent: number[] = [];
    let slowOnce = false;
    const slowClient = (name: string): LeaseClient => {
      const c = leases.client(name);
      return {
        ...c,
        update: async (r) => {
          if (name === "shard-0") sent.push(clock.now().getTime());
          if (name === "shard-0" && slowOnce) {
            slowOnce = false;
            // The answer comes 7 s after the renewal was sent (within the 10 s renew deadline).
            await new Promise<void>((resolve) => clock.setTimer(resolve, 7_000));
          }
          return c.update(r);
        },
      };
    };
    const lines: { msg: string; tookMs?: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb): void {
        lines.push(JSON.parse(chunk.toString()) as { msg: string; tookMs?: number });
        cb();
      },
    });
    const renewals: number[] = [];
    const a = new ShardLeases({
      shardClients: [...Array(SHARDS).keys()].map((i) => slowClient(`shard-${String(i)}`)),
      slotClients: [...Array(memberSlots(SHARDS)).keys()].map((i) => leases.client(`member-${String(i)}`)),
      identity: "a",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      clock,
      logger: createLogger("info", sink),
      onRenewed: (ms) => void renewals.push(ms),
    });
    const log: string[] = [];
    void a.run(recorder(log, "a"));
    await clock.advanceAsync(3_000, 50);
    expect(a.held()).toEqual([0, 1, 2, 3]);
    slowOnce = true;
    const before = sent.length;
    await clock.advanceAsync(12_000, 50);
    const slowAt = sent[before]!;
    const nextAt = sent[before + 1]!;
    // Sent again as the late answer arrived: 7 s after, not 7 + 2 s (which would leave 1 s of the
    // 10 s deadline for the next answer).
    expect(nextAt - slowAt).toBeGreaterThanOrEqual(7_000);
    expect(nextAt - slowAt).toBeLessThan(7_500);
    expect(log.some((l) => l.includes("lost"))).toBe(false);
    expect(lines.filter((l) => l.msg === "slow shard renewal").map((l) => l.tookMs)).toEqual([7_000]);
    expect(renewals).toContain(7_000);
    await a.stop(recorder(log, "a"));
  });

  it("on stop, stops each shard's work before releasing its Lease", async () => {
    const clock = new FakeClock(0);
    const leases = new Leases();
    const a = replica(leases, clock, "a");
    const log: string[] = [];
    await a.round(recorder(log, "a", leases));
    await a.stop(recorder(log, "a", leases));
    expect(log.filter((l) => l.includes("stop"))).toEqual([
      "a stop 0 (lease held by a)",
      "a stop 1 (lease held by a)",
      "a stop 2 (lease held by a)",
      "a stop 3 (lease held by a)",
    ]);
    expect([0, 1, 2, 3].map((i) => leases.holder(`shard-${String(i)}`))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(leases.holder("member-0")).toBeUndefined();
  });

  it("a holder whose clock runs behind keeps its shards while it renews (expiry by the reader's clock)", async () => {
    const clockA = new FakeClock(0);
    const clockB = new FakeClock(600_000); // ten minutes ahead of a
    const leases = new Leases();
    const a = replica(leases, clockA, "a");
    const b = replica(leases, clockB, "b");
    const log: string[] = [];
    await a.round(recorder(log, "a"));
    expect(a.held()).toEqual([0, 1, 2, 3]);
    for (let i = 0; i < 20; i++) {
      clockA.advance(2_000);
      clockB.advance(2_000);
      expect(await a.renew()).toBeUndefined();
      await b.balance(recorder(log, "b"));
    }
    expect(b.held()).toEqual([]);
    expect(log.filter((l) => l.startsWith("b +"))).toEqual([]);
  });

  it("a held shard whose Lease someone else wrote is lost at once, not at the renew deadline", async () => {
    const clock = new FakeClock(0);
    const leases = new Leases();
    const a = replica(leases, clock, "a");
    const log: string[] = [];
    await a.round(recorder(log, "a"));
    const r = leases.records.get("shard-1");
    if (r === undefined) throw new Error("shard-1 not created");
    leases.records.set("shard-1", {
      ...r,
      holderIdentity: "x",
      resourceVersion: `${r.resourceVersion}x`,
    });
    clock.advance(2_000);
    expect(await a.renew()).toBe(1);
  });

  it("a shard given back is still renewed while its work drains", async () => {
    const { clock, a, b, log } = twoReplicas();
    await a.round(recorder(log, "a"));
    let drained!: () => void;
    const draining = new Promise<void>((resolve) => (drained = resolve));
    const slow: ShardCallbacks = { ...recorder(log, "a"), beforeRelease: () => draining };
    await b.round(recorder(log, "b")); // b is a member now; a gives back two shards
    const giving = a.balance(slow);
    for (let i = 0; i < 12; i++) {
      clock.advance(2_000);
      expect(await a.renew()).toBeUndefined();
      await b.balance(recorder(log, "b"));
    }
    // 24 s of draining, longer than the lease: nobody took a shard a still drains.
    expect(log.filter((l) => l.startsWith("b +"))).toEqual([]);
    drained();
    await giving;
    await b.round(recorder(log, "b"));
    expect(b.held().length).toBeGreaterThan(0);
  });
});
