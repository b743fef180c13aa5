import { describe, expect, it } from "@jest/globals";
import { ApiException } from "@kubernetes/client-node";
import { Writable } from "node:stream";
import { FakeClock } from "../../../src/runtime/clock.ts";
import { LeaderElector } from "../../../src/runtime/leader.ts";
import { LeaseConflictError } from "../../../src/runtime/lease-client.ts";
import type { LeaseClient, LeaseRecord } from "../../../src/runtime/lease-client.ts";
import { createLogger } from "../../../src/runtime/logger.ts";
import { Metrics } from "../../../src/runtime/metrics.ts";

/** An in-memory Lease with the API server's resourceVersion semantics; `failing` simulates outages. */
class MemoryLease {
  record: LeaseRecord | undefined;
  failing = false;
  #rv = 0;
  client(): LeaseClient {
    const check = (): void => {
      if (this.failing) throw new Error("connection refused");
    };
    return {
      get: () => {
        check();
        return Promise.resolve(this.record === undefined ? undefined : { ...this.record });
      },
      create: (r) => {
        check();
        if (this.record !== undefined) return Promise.reject(new LeaseConflictError("exists"));
        this.record = { ...r, resourceVersion: String(++this.#rv) };
        return Promise.resolve({ ...this.record });
      },
      update: (r) => {
        check();
        if (this.record?.resourceVersion !== r.resourceVersion)
          return Promise.reject(new LeaseConflictError("conflict"));
        this.record = { ...r, resourceVersion: String(++this.#rv) };
        return Promise.resolve({ ...this.record });
      },
    };
  }
}

function elector(
  lease: MemoryLease | LeaseClient,
  clock: FakeClock,
  identity: string,
  metrics?: Metrics,
): LeaderElector {
  return new LeaderElector({
    client: lease instanceof MemoryLease ? lease.client() : lease,
    name: "drawbridge-leader",
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    logger: createLogger("silent"),
    random: () => 0,
    ...(metrics === undefined ? {} : { metrics }),
  });
}

function callbacks(log: string[], who: string): Parameters<LeaderElector["run"]>[0] {
  return {
    onStartedLeading: () => void log.push(`${who} started`),
    onStoppedLeading: (reason) => void log.push(`${who} stopped:${reason}`),
  };
}

describe("LeaderElector", () => {
  it("creates the Lease, leads, renews it and releases it on stop()", async () => {
    const clock = new FakeClock(0);
    const lease = new MemoryLease();
    const metrics = new Metrics({ processMetrics: false });
    const a = elector(lease, clock, "a", metrics);
    const log: string[] = [];
    const done = a.run(callbacks(log, "a"));
    await clock.advanceAsync(10);
    expect(a.isLeader()).toBe(true);
    expect(log).toEqual(["a started"]);
    expect(lease.record).toMatchObject({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    expect(await metrics.render()).toContain('leader_election_master_status{name="drawbridge-leader"} 1');
    await clock.advanceAsync(4100, 100);
    expect(lease.record?.renewTime?.getTime()).toBeGreaterThanOrEqual(4000);
    const stopping = a.stop();
    await clock.advanceAsync(10);
    await stopping;
    await done;
    expect(log).toEqual(["a started", "a stopped:stopped"]);
    expect(lease.record).toMatchObject({ holderIdentity: undefined, leaseDurationSeconds: 1 });
    expect(a.isLeader()).toBe(false);
  });

  it("a second candidate waits while the leader renews, and takes over at once after release", async () => {
    const clock = new FakeClock(0);
    const lease = new MemoryLease();
    const log: string[] = [];
    const a = elector(lease, clock, "a");
    const b = elector(lease, clock, "b");
    void a.run(callbacks(log, "a"));
    await clock.advanceAsync(10);
    void b.run(callbacks(log, "b"));
    await clock.advanceAsync(60_000, 500);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(b.leader).toBe("a");
    const stopping = a.stop();
    await clock.advanceAsync(10);
    await stopping;
    await clock.advanceAsync(2500, 100);
    expect(b.isLeader()).toBe(true);
    expect(lease.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    expect(log).toEqual(["a started", "a stopped:stopped", "b started"]);
  });

  it("takes over a crashed leader's Lease only after it expires", async () => {
    const clock = new FakeClock(0);
    const lease = new MemoryLease();
    lease.record = {
      holderIdentity: "crashed",
      leaseDurationSeconds: 15,
      acquireTime: new Date(0),
      renewTime: new Date(0),
      leaseTransitions: 3,
      resourceVersion: "100",
    };
    const b = elector(lease, clock, "b");
    void b.run(callbacks([], "b"));
    await clock.advanceAsync(14_000, 500);
    expect(b.isLeader()).toBe(false);
    await clock.advanceAsync(4_000, 500);
    expect(b.isLeader()).toBe(true);
    expect(lease.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 4 });
  });

  it("loses leadership when it cannot renew within the renew deadline", async () => {
    const clock = new FakeClock(0);
    const lease = new MemoryLease();
    const log: string[] = [];
    const a = elector(lease, clock, "a");
    const done = a.run(callbacks(log, "a"));
    await clock.advanceAsync(10);
    expect(a.isLeader()).toBe(true);
    lease.failing = true;
    await clock.advanceAsync(8_000, 500);
    expect(a.isLeader()).toBe(true);
    await clock.advanceAsync(4_000, 500);
    await done;
    expect(a.isLeader()).toBe(false);
    expect(log).toEqual(["a started", "a stopped:lost"]);
  });

  it("a slow renewal: the next goes out a retry period after it was sent, and the deadline counts from sending", async () => {
    const clock = new FakeClock(0);
    const lease = new MemoryLease();
    const inner = lease.client();
    const sent: number[] = [];
    const slow: number[] = [];
    const client: LeaseClient = {
      ...inner,
      update: async (r) => {
        sent.push(clock.now().getTime());
        const ms = slow.shift();
        if (ms !== undefined) await new Promise<void>((resolve) => clock.setTimer(resolve, ms));
        return inner.update(r);
      },
    };
    const a = elector(client, clock, "a");
    const log: string[] = [];
    const done = a.run(callbacks(log, "a"));
    await clock.advanceAsync(10);
    expect(a.isLeader()).toBe(true);
    await clock.advanceAsync(2_000, 100);
    // Answered 7 s after it was sent, then 4 s after the next: that one lands 11 s after the slow
    // one was sent, past the 10 s deadline counted from sending (from the answer it would be 4 s).
    slow.push(7_000, 4_000);
    const from = sent.length;
    await clock.advanceAsync(14_000, 100);
    await done;
    const [slowAt, nextAt] = [sent[from]!, sent[from + 1]!];
    expect(nextAt - slowAt).toBeGreaterThanOrEqual(7_000);
    expect(nextAt - slowAt).toBeLessThan(7_200);
    expect(log).toEqual(["a started", "a stopped:lost"]);
  });

  it("does not act on a Lease another candidate changed concurrently (409)", async () => {
    const clock = new FakeClock(0);
    const lease = new MemoryLease();
    const client = lease.client();
    const racing: LeaseClient = {
      ...client,
      // Another candidate creates the Lease between our read and our create.
      get: async () => {
        const r = await client.get();
        if (r === undefined)
          await client.create({
            holderIdentity: "other",
            leaseDurationSeconds: 15,
            acquireTime: new Date(0),
            renewTime: new Date(0),
            leaseTransitions: 0,
          });
        return r;
      },
    };
    const a = new LeaderElector({
      client: racing,
      name: "l",
      identity: "a",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      clock,
      logger: createLogger("silent"),
      random: () => 0,
    });
    void a.run(callbacks([], "a"));
    await clock.advanceAsync(2_500, 100);
    expect(a.isLeader()).toBe(false);
    expect(lease.record?.holderIdentity).toBe("other");
    await a.stop();
  });

  it("a Lease that keeps failing the same way is one warn line with code, reason and message, no dump", async () => {
    const clock = new FakeClock(0);
    const lines: { level: string; msg: string; code?: number; reason?: string; error?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done): void {
        for (const l of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l) as never);
        done();
      },
    });
    const body = JSON.stringify({
      kind: "Status",
      reason: "NotFound",
      message: 'namespaces "x" not found',
      code: 404,
    });
    const missing = (): Promise<never> =>
      Promise.reject(
        new ApiException(404, "Unknown API Status Code!", body, { authorization: "Bearer secret" }),
      );
    const e = new LeaderElector({
      client: { get: () => Promise.resolve(undefined), create: missing, update: missing },
      name: "l",
      identity: "a",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      clock,
      logger: createLogger("debug", sink),
      random: () => 0,
    });
    void e.run(callbacks([], "a"));
    await clock.advanceAsync(20_000, 500);
    await e.stop();
    const failures = lines.filter((l) => l.msg.startsWith("lease acquire/renew failed"));
    expect(failures.length).toBeGreaterThan(5);
    expect(failures.filter((l) => l.level === "warn")).toEqual([
      expect.objectContaining({ code: 404, reason: "NotFound", error: 'namespaces "x" not found' }),
    ]);
    expect(JSON.stringify(lines)).not.toContain("secret");
    expect(JSON.stringify(lines)).not.toContain("stack");
  });
});
