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
});
