// Replicas share a subscription's ARM budget. ARM limits calls per subscription, not per caller, so
// with sharding (ADR 0018) every replica's client-side buckets must add up to no more than the
// configured limits: each replica takes limit / live replicas, rate and burst alike, recomputed each
// balancing round as replicas come and go. A replica alone has the whole budget.
import type { Clock } from "../runtime/clock.ts";
import type { RateLimits, SubscriptionRateLimiter } from "./token-bucket.ts";

/**
 * One replica's part of the configured per-subscription limits, with `replicas` live replicas:
 * limit / replicas, with no floor, so the parts never add up to more than the limits (a floor would
 * at a few dozen replicas). Bursts are whole calls, at least 1 (a bucket needs room for one call):
 * that exceeds the limit only with more replicas than the burst has calls (the chart allows 64 shards).
 */
export function sharedLimits(configured: RateLimits, replicas: number): RateLimits {
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new RangeError(`the live replica count must be an integer of at least 1, got ${replicas}`);
  }
  const part = (k: keyof RateLimits): number => configured[k] / replicas;
  return {
    readsPerSec: part("readsPerSec"),
    readBurst: Math.max(1, Math.floor(part("readBurst"))),
    writesPerSec: part("writesPerSec"),
    writeBurst: Math.max(1, Math.floor(part("writeBurst"))),
  };
}

export interface ArmBudgetOptions {
  /** The per-subscription limits of the whole deployment (all replicas together). */
  configured: RateLimits;
  limiter: SubscriptionRateLimiter;
  clock: Clock;
  /** The live replicas assumed until the first count (default 1: the whole budget). */
  replicas?: number;
  /** Told the new share (the fraction of `configured` this replica uses) when it changes. */
  onShare?: ((share: number) => void) | undefined;
}

/** This replica's share of the budget, applied to its limiter; starts at `replicas` (default 1). */
export class ArmBudget {
  readonly #o: ArmBudgetOptions;
  #replicas: number;

  constructor(o: ArmBudgetOptions) {
    this.#o = o;
    this.#replicas = o.replicas ?? 1;
    o.limiter.setLimits(sharedLimits(o.configured, this.#replicas), o.clock.now().getTime());
    o.onShare?.(this.share());
  }

  /** The live replicas now (self included); re-sizes the buckets when the count changed. */
  setReplicas(replicas: number): void {
    if (replicas === this.#replicas) return;
    const limits = sharedLimits(this.#o.configured, replicas);
    this.#o.limiter.setLimits(limits, this.#o.clock.now().getTime());
    this.#replicas = replicas;
    this.#o.onShare?.(this.share());
  }

  get replicas(): number {
    return this.#replicas;
  }

  /** Fraction of the configured read rate this replica uses (1 = all of it). */
  share(): number {
    return this.#o.limiter.limits.readsPerSec / this.#o.configured.readsPerSec;
  }
}
