import { describe, expect, it } from "@jest/globals";
import { FakeClock, flushMicrotasks } from "../../../src/runtime/clock.ts";
import { WorkQueue } from "../../../src/runtime/queue.ts";
import type { HandlerResult, QueueMetrics } from "../../../src/runtime/queue.ts";

/** A handler whose calls stay pending until the test resolves or rejects them. */
function controlledHandler(): {
  handler: (key: string) => Promise<HandlerResult | undefined>;
  calls: string[];
  pending: Map<string, { resolve: (r?: HandlerResult) => void; reject: (e: unknown) => void }>;
} {
  const calls: string[] = [];
  const pending = new Map<string, { resolve: (r?: HandlerResult) => void; reject: (e: unknown) => void }>();
  const handler = (key: string): Promise<HandlerResult | undefined> => {
    calls.push(key);
    return new Promise((resolve, reject) => {
      pending.set(key, { resolve, reject });
    });
  };
  return { handler, calls, pending };
}

async function settle(): Promise<void> {
  await flushMicrotasks();
}

describe("WorkQueue", () => {
  it("coalesces adds of a queued key into one run", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, concurrency: 1 });
    const h = controlledHandler();
    q.add("a");
    q.add("a");
    q.add("b");
    q.add("a");
    q.start(h.handler);
    await settle();
    expect(h.calls).toEqual(["a"]);
    h.pending.get("a")!.resolve();
    await settle();
    expect(h.calls).toEqual(["a", "b"]);
    h.pending.get("b")!.resolve();
    await settle();
    expect(h.calls).toEqual(["a", "b"]);
    expect(q.depth).toBe(0);
  });

  it("runs one worker per key and re-runs a key added while it was processing (dirty) once", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, concurrency: 4 });
    const h = controlledHandler();
    q.start(h.handler);
    q.add("nsg-1");
    await settle();
    q.add("nsg-1");
    q.add("nsg-1");
    await settle();
    expect(h.calls).toEqual(["nsg-1"]);
    expect(q.isProcessing("nsg-1")).toBe(true);
    h.pending.get("nsg-1")!.resolve();
    await settle();
    expect(h.calls).toEqual(["nsg-1", "nsg-1"]);
    h.pending.get("nsg-1")!.resolve();
    await settle();
    expect(h.calls).toHaveLength(2);
  });

  it("bounds parallelism across keys", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, concurrency: 3 });
    let running = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    q.start(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => release.push(r));
      running--;
      return undefined;
    });
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    await settle();
    expect(running).toBe(3);
    expect(q.depth).toBe(7);
    while (release.length > 0) {
      release.shift()!();
      await settle();
    }
    expect(peak).toBe(3);
    expect(q.processing).toBe(0);
    expect(q.depth).toBe(0);
  });

  it("backs off exponentially per key, caps the delay, and resets after success", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, concurrency: 2, baseDelayMs: 200, maxDelayMs: 1000, random: () => 0 });
    const times: number[] = [];
    let fail = 5;
    q.start(() => {
      times.push(clock.now().getTime());
      if (fail-- > 0) return Promise.reject(new Error("boom"));
      return Promise.resolve(undefined);
    });
    const t0 = clock.now().getTime();
    q.add("k");
    await clock.advanceAsync(5000, 10);
    expect(times.map((t) => t - t0)).toEqual([0, 200, 600, 1400, 2400, 3400]);
    expect(q.numRequeues("k")).toBe(0);
    // After success the next failure starts from the base delay again.
    fail = 1;
    const t1 = clock.now().getTime();
    q.add("k");
    await clock.advanceAsync(1000, 10);
    expect(times.slice(6).map((t) => t - t1)).toEqual([0, 200]);
  });

  it("computes the backoff curve with a cap", () => {
    const q = new WorkQueue({ clock: new FakeClock(), baseDelayMs: 100, maxDelayMs: 60_000 });
    expect(q.backoffMs(1)).toBe(100);
    expect(q.backoffMs(4)).toBe(800);
    expect(q.backoffMs(100)).toBe(60_000);
  });

  it("applies jitter by shortening the delay by up to the jitter fraction", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 1000, jitter: 0.2, random: () => 0.5 });
    const times: number[] = [];
    q.start(() => {
      times.push(clock.now().getTime());
      return times.length === 1 ? Promise.reject(new Error("x")) : Promise.resolve(undefined);
    });
    const t0 = clock.now().getTime();
    q.add("k");
    await clock.advanceAsync(2000, 10);
    expect(times.map((t) => t - t0)).toEqual([0, 900]);
  });

  it("honours an error's retryAfterMs instead of its backoff", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 200, random: () => 0 });
    const times: number[] = [];
    let n = 0;
    q.start(() => {
      times.push(clock.now().getTime());
      if (n++ === 0) return Promise.reject(Object.assign(new Error("throttled"), { retryAfterMs: 7000 }));
      return Promise.resolve(undefined);
    });
    const t0 = clock.now().getTime();
    q.add("nsg");
    await clock.advanceAsync(100, 10);
    // New events during the Retry-After window do not run the key early.
    q.add("nsg");
    await clock.advanceAsync(6800, 100);
    expect(times).toHaveLength(1);
    await clock.advanceAsync(200, 10);
    expect(times.map((t) => t - t0)).toEqual([0, 7000]);
  });

  it("forget() resets a key's backoff so the next add runs immediately", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 10_000, random: () => 0 });
    const times: number[] = [];
    let n = 0;
    q.start(() => {
      times.push(clock.now().getTime());
      return n++ === 0 ? Promise.reject(new Error("x")) : Promise.resolve(undefined);
    });
    const t0 = clock.now().getTime();
    q.add("k");
    await clock.advanceAsync(10, 10);
    expect(q.numRequeues("k")).toBe(1);
    q.forget("k");
    q.add("k");
    await clock.advanceAsync(10, 10);
    expect(times.map((t) => t - t0)).toEqual([0, 10]);
  });

  it("requeueAfterMs schedules a later run; the earliest pending wake-up wins", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const times: number[] = [];
    let n = 0;
    q.start(() => {
      times.push(clock.now().getTime());
      return Promise.resolve(n++ === 0 ? { requeueAfterMs: 5000 } : undefined);
    });
    const t0 = clock.now().getTime();
    q.add("k");
    await settle();
    q.addAfter("k", 2000);
    q.addAfter("k", 9000);
    await clock.advanceAsync(10_000, 100);
    expect(times.map((t) => t - t0)).toEqual([0, 2000]);
  });

  it("reports metrics through its hooks", async () => {
    const clock = new FakeClock();
    const seen = {
      adds: 0,
      retries: 0,
      depth: [] as number[],
      work: [] as number[],
      latency: [] as number[],
    };
    let probe: { longestRunningSeconds(): number } | undefined;
    const metrics: QueueMetrics = {
      add: () => {
        seen.adds++;
      },
      depth: (d) => void seen.depth.push(d),
      retry: () => {
        seen.retries++;
      },
      queueLatency: (s) => void seen.latency.push(s),
      workDuration: (s) => void seen.work.push(s),
      bindInFlight: (p) => {
        probe = p;
      },
    };
    const q = new WorkQueue({ clock, metrics, random: () => 0 });
    const h = controlledHandler();
    q.add("a");
    q.add("a");
    clock.advance(50);
    q.start(h.handler);
    await settle();
    clock.advance(1500);
    expect(probe?.longestRunningSeconds()).toBe(1.5);
    h.pending.get("a")!.reject(new Error("x"));
    await settle();
    expect(seen.adds).toBe(2);
    expect(seen.retries).toBe(1);
    expect(seen.latency).toEqual([0.05]);
    expect(seen.work).toEqual([1.5]);
    expect(seen.depth).toContain(1);
  });

  it("shutdown waits for in-flight handlers and ignores later adds", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const h = controlledHandler();
    q.start(h.handler);
    q.add("a");
    await settle();
    let done = false;
    const stopping = q.shutdown().then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    q.add("b");
    h.pending.get("a")!.resolve();
    await stopping;
    expect(done).toBe(true);
    expect(h.calls).toEqual(["a"]);
  });

  it("treats a synchronously throwing handler like a failed one", async () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    const q = new WorkQueue({ clock, onError: (k) => errors.push(k) });
    q.start(() => {
      throw new Error("sync");
    });
    q.add("k");
    await settle();
    expect(errors).toEqual(["k"]);
    expect(q.numRequeues("k")).toBe(1);
    await q.shutdown();
  });
  it("lets timers run during a long stretch of handlers that wait for nothing", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, concurrency: 1 });
    for (let i = 0; i < 100; i++) q.add(`k${i}`);
    let turned = false;
    const beforeTurn: string[] = [];
    const done: string[] = [];
    setImmediate(() => {
      turned = true;
    });
    q.start((key) => {
      if (!turned) beforeTurn.push(key);
      done.push(key);
      clock.advance(10); // each handler takes 10 ms of CPU, resolving without I/O
      return Promise.resolve({});
    });
    await flushMicrotasks(40);
    expect(done).toHaveLength(100);
    // 50 ms of back-to-back handlers, then the event loop gets its turn (a Lease renewal timer).
    expect(beforeTurn.length).toBeGreaterThanOrEqual(5);
    expect(beforeTurn.length).toBeLessThanOrEqual(7);
  });
});
