// Replicas share a subscription's ARM budget. ARM limits calls per subscription, not per caller, so
// with sharding (ADR 0018) every replica's client-side buckets must add up to no more than the
// configured limits: each replica takes limit / live replicas, rate and burst alike, recomputed each
// balancing round as replicas come and go. A replica alone has the whole budget.
import type { Clock } from "../runtime/clock.ts";
import type { RateLimits, SubscriptionRateLimiter } from "./token-bucket.ts";

/** The least a replica's share goes down to, whatever the replica count (capped by the configured limits). */
export const MIN_SHARED_LIMITS: RateLimits = Object.freeze({
  readsPerSec: 1,
  readBurst: 5,
  writesPerSec: 0.5,
  writeBurst: 2,
});

/** One replica's part of the configured per-subscription limits, with `replicas` live replicas. */
export function sharedLimits(
  configured: RateLimits,
  replicas: number,
  min: RateLimits = MIN_SHARED_LIMITS,
): RateLimits {
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new RangeError(`the live replica count must be an integer of at least 1, got ${replicas}`);
  }
  const part = (k: keyof RateLimits): number => {
    const limit = configured[k];
    return Math.min(limit, Math.max(min[k], limit / replicas));
  };
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
  /** Told the new share (the fraction of `configured` this replica uses) when it changes. */
  onShare?: ((share: number) => void) | undefined;
}

/** This replica's share of the budget, applied to its limiter. Starts with the whole budget. */
export class ArmBudget {
  readonly #o: ArmBudgetOptions;
  #replicas = 1;

  constructor(o: ArmBudgetOptions) {
    this.#o = o;
    o.limiter.setLimits(sharedLimits(o.configured, 1), o.clock.now().getTime());
    o.onShare?.(1);
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
