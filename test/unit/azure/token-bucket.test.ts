import { describe, expect, it } from "@jest/globals";
import { SubscriptionRateLimiter, TokenBucket } from "../../../src/azure/token-bucket.ts";

describe("TokenBucket", () => {
  it("lets a burst through, then spaces calls at the rate", () => {
    const b = new TokenBucket({ ratePerSec: 10, burst: 3 }, 0);
    expect([b.reserve(0), b.reserve(0), b.reserve(0)]).toEqual([0, 0, 0]);
    // Reservations queue up: the 4th waits 100 ms, the 5th 200 ms.
    expect(b.reserve(0)).toBe(100);
    expect(b.reserve(0)).toBe(200);
  });

  it("refills with time, never above the burst", () => {
    const b = new TokenBucket({ ratePerSec: 10, burst: 2 }, 0);
    b.reserve(0);
    b.reserve(0);
    expect(b.available(50)).toBeCloseTo(0.5);
    expect(b.reserve(100)).toBe(0);
    expect(b.available(60_000)).toBe(2);
  });

  it("schedules no more than burst + rate*t calls into the first t seconds", () => {
    const b = new TokenBucket({ ratePerSec: 8, burst: 150 }, 0);
    // 1,000 callers arrive at once; each runs at its reservation's time.
    const runAt = Array.from({ length: 1000 }, () => b.reserve(0));
    expect(runAt.filter((t) => t <= 10_000)).toHaveLength(150 + 8 * 10);
    expect(runAt.filter((t) => t === 0)).toHaveLength(150);
    // Start times never go backwards: first come, first served.
    expect([...runAt].sort((x, y) => x - y)).toEqual(runAt);
  });

  it("resize: refills at the old rate until now, then at the new one, cut to the new size", () => {
    const b = new TokenBucket({ ratePerSec: 10, burst: 100 }, 0);
    expect(b.available(0)).toBe(100);
    b.resize({ ratePerSec: 2, burst: 20 }, 0);
    expect(b.available(0)).toBe(20); // a balance above the new size is cut
    for (let i = 0; i < 20; i++) b.reserve(0);
    expect(b.reserve(0)).toBe(500); // 2 per second now
    expect(b.available(1_000)).toBeCloseTo(1);
    // Growing keeps the balance; the time before the resize counted at the old rate.
    b.resize({ ratePerSec: 10, burst: 100 }, 1_000);
    expect(b.available(1_000)).toBeCloseTo(1);
    expect(b.available(2_000)).toBeCloseTo(11);
    expect(() => {
      b.resize({ ratePerSec: 0, burst: 1 }, 2_000);
    }).toThrow(/rate must be a positive/);
  });

  it("rejects nonsense limits", () => {
    expect(() => new TokenBucket({ ratePerSec: 0, burst: 1 }, 0)).toThrow(/rate must be a positive/);
    expect(() => new TokenBucket({ ratePerSec: 1, burst: 0 }, 0)).toThrow(/burst must be at least 1/);
  });
});

describe("SubscriptionRateLimiter", () => {
  const limits = { readsPerSec: 1, readBurst: 2, writesPerSec: 1, writeBurst: 1 };

  it("keeps reads and writes, and subscriptions, apart", () => {
    const l = new SubscriptionRateLimiter(limits);
    expect(l.reserve("sub-a", "write", 0)).toBe(0);
    expect(l.reserve("sub-a", "write", 0)).toBe(1000);
    expect(l.reserve("sub-a", "read", 0)).toBe(0);
    expect(l.reserve("SUB-A", "read", 0)).toBe(0); // ids are case-insensitive
    expect(l.reserve("sub-a", "read", 0)).toBe(1000);
    expect(l.reserve("sub-b", "write", 0)).toBe(0);
    expect(l.delayedCalls).toBe(2);
  });

  it("setLimits re-sizes the buckets of every subscription and those made later", () => {
    const l = new SubscriptionRateLimiter({ readsPerSec: 10, readBurst: 10, writesPerSec: 4, writeBurst: 4 });
    expect(l.reserve("sub-a", "read", 0)).toBe(0);
    l.setLimits({ readsPerSec: 5, readBurst: 2, writesPerSec: 2, writeBurst: 1 }, 0);
    expect(l.limits).toEqual({ readsPerSec: 5, readBurst: 2, writesPerSec: 2, writeBurst: 1 });
    // sub-a had 9 tokens left: cut to 2, then one every 200 ms.
    expect([l.reserve("sub-a", "read", 0), l.reserve("sub-a", "read", 0)]).toEqual([0, 0]);
    expect(l.reserve("sub-a", "read", 0)).toBe(200);
    // A subscription seen first after the change gets the new limits.
    expect(l.reserve("sub-b", "write", 0)).toBe(0);
    expect(l.reserve("sub-b", "write", 0)).toBe(500);
    expect(() => {
      l.setLimits({ readsPerSec: 5, readBurst: 0, writesPerSec: 2, writeBurst: 1 }, 0);
    }).toThrow(/burst must be at least 1/);
  });
});
