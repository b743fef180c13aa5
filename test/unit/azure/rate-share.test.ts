import { describe, expect, it } from "@jest/globals";
import { ArmBudget, sharedLimits } from "../../../src/azure/rate-share.ts";
import { DEFAULT_RATE_LIMITS, SubscriptionRateLimiter } from "../../../src/azure/token-bucket.ts";
import { FakeClock } from "../../../src/runtime/clock.ts";

const configured = { readsPerSec: 20, readBurst: 200, writesPerSec: 8, writeBurst: 150 };

describe("sharedLimits", () => {
  it("gives a replica alone the whole budget", () => {
    expect(sharedLimits(configured, 1)).toEqual(configured);
  });

  it("divides rate and burst by the live replicas, so together they stay within the budget", () => {
    expect(sharedLimits(configured, 2)).toEqual({
      readsPerSec: 10,
      readBurst: 100,
      writesPerSec: 4,
      writeBurst: 75,
    });
    for (const n of [2, 3, 4, 7]) {
      const s = sharedLimits(configured, n);
      expect(s.readsPerSec * n).toBeLessThanOrEqual(configured.readsPerSec + 1e-9);
      expect(s.readBurst * n).toBeLessThanOrEqual(configured.readBurst);
      expect(s.writesPerSec * n).toBeLessThanOrEqual(configured.writesPerSec + 1e-9);
      expect(s.writeBurst * n).toBeLessThanOrEqual(configured.writeBurst);
    }
  });

  it("has no floor that would make many replicas add up to more than the budget", () => {
    for (const n of [17, 20, 41, 64]) {
      const s = sharedLimits(DEFAULT_RATE_LIMITS, n);
      expect(s.readsPerSec * n).toBeLessThanOrEqual(DEFAULT_RATE_LIMITS.readsPerSec + 1e-9);
      expect(s.readBurst * n).toBeLessThanOrEqual(DEFAULT_RATE_LIMITS.readBurst);
      expect(s.writesPerSec * n).toBeLessThanOrEqual(DEFAULT_RATE_LIMITS.writesPerSec + 1e-9);
      expect(s.writeBurst * n).toBeLessThanOrEqual(DEFAULT_RATE_LIMITS.writeBurst);
      expect(s.readsPerSec).toBeGreaterThan(0);
      expect(s.writesPerSec).toBeGreaterThan(0);
    }
    // A bucket keeps room for one call, whatever the count.
    expect(sharedLimits(configured, 1_000).writeBurst).toBe(1);
  });

  it("rejects a replica count that is not a positive integer", () => {
    expect(() => sharedLimits(configured, 0)).toThrow(/integer of at least 1, got 0/);
    expect(() => sharedLimits(configured, 1.5)).toThrow(/got 1.5/);
  });
});

describe("ArmBudget", () => {
  it("re-sizes the limiter's buckets as replicas come and go, and reports the share", () => {
    const clock = new FakeClock(0);
    const limiter = new SubscriptionRateLimiter(DEFAULT_RATE_LIMITS);
    const shares: number[] = [];
    const budget = new ArmBudget({ configured, limiter, clock, onShare: (s) => void shares.push(s) });
    expect(limiter.limits).toEqual(configured);
    expect(budget.share()).toBe(1);
    budget.setReplicas(2);
    expect(limiter.limits).toEqual(sharedLimits(configured, 2));
    budget.setReplicas(2); // unchanged: not reported again
    budget.setReplicas(4);
    expect(budget.share()).toBe(0.25);
    budget.setReplicas(1);
    expect(limiter.limits).toEqual(configured);
    expect(shares).toEqual([1, 0.5, 0.25, 1]);
  });

  it("starts on the share it is given (a sharded replica before its first count)", () => {
    const clock = new FakeClock(new Date("2026-01-01T00:00:00Z"));
    const limiter = new SubscriptionRateLimiter(configured);
    const budget = new ArmBudget({ configured, limiter, clock, replicas: 4 });
    expect(limiter.limits).toEqual(sharedLimits(configured, 4));
    expect(budget.share()).toBe(0.25);
    budget.setReplicas(1);
    expect(limiter.limits).toEqual(configured);
  });

  it("with two replicas, one subscription sees at most the configured reads in the first seconds", () => {
    const clock = new FakeClock(0);
    const replicas = [0, 1].map(() => new SubscriptionRateLimiter(configured));
    for (const limiter of replicas) new ArmBudget({ configured, limiter, clock }).setReplicas(2);
    // 1,000 reads wanted at once by each replica: count what both send in the first 10 s.
    const sent = replicas
      .flatMap((l) => Array.from({ length: 1000 }, () => l.reserve("sub", "read", 0)))
      .filter((wait) => wait <= 10_000).length;
    expect(sent).toBeLessThanOrEqual(configured.readBurst + configured.readsPerSec * 10 + 2);
  });
});
