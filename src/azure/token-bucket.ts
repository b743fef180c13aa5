// Client-side rate limiting per subscription, kept below ARM's own limits so the operator slows
// itself down instead of collecting 429s (which ARM counts against the subscription as well).

export interface BucketLimits {
  /** Tokens added per second. */
  ratePerSec: number;
  /** Bucket size: how many calls may go out back to back after a quiet period. */
  burst: number;
}

/**
 * A token bucket that lets callers reserve a token ahead of time: the balance may go negative,
 * and each caller waits until its own reservation is covered. That queues callers in arrival
 * order without keeping a queue.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  constructor(limits: BucketLimits, nowMs: number) {
    if (!(limits.ratePerSec > 0) || !Number.isFinite(limits.ratePerSec)) {
      throw new RangeError(`rate must be a positive number of calls per second, got ${limits.ratePerSec}`);
    }
    if (!(limits.burst >= 1) || !Number.isFinite(limits.burst)) {
      throw new RangeError(`burst must be at least 1, got ${limits.burst}`);
    }
    this.#rate = limits.ratePerSec;
    this.#burst = limits.burst;
    this.#tokens = limits.burst;
    this.#last = nowMs;
  }

  /** Take one token; returns how many ms the caller must wait before using it (0 = now). */
  reserve(nowMs: number): number {
    this.#refill(nowMs);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#rate) * 1000);
  }

  /** Tokens available now (negative while reservations are outstanding). */
  available(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  #refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.#last);
    this.#last = Math.max(this.#last, nowMs);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed / 1000) * this.#rate);
  }
}

export interface RateLimits {
  readsPerSec: number;
  readBurst: number;
  writesPerSec: number;
  writeBurst: number;
}

/** Below ARM's per-subscription limits (reads 25/s burst 250, writes 10/s burst 200). */
export const DEFAULT_RATE_LIMITS: RateLimits = Object.freeze({
  readsPerSec: 20,
  readBurst: 200,
  writesPerSec: 8,
  writeBurst: 150,
});

export type CallKind = "read" | "write";

/** One read and one write bucket per subscription, created on first use. */
export class SubscriptionRateLimiter {
  readonly #limits: RateLimits;
  readonly #buckets = new Map<string, { read: TokenBucket; write: TokenBucket }>();
  #delayed = 0;

  constructor(limits: RateLimits) {
    this.#limits = limits;
    // Fail at construction, naming the field, rather than on the first call.
    new TokenBucket({ ratePerSec: limits.readsPerSec, burst: limits.readBurst }, 0);
    new TokenBucket({ ratePerSec: limits.writesPerSec, burst: limits.writeBurst }, 0);
  }

  /** Reserve a token for a call; returns the wait in ms. */
  reserve(subscriptionId: string, kind: CallKind, nowMs: number): number {
    const key = subscriptionId.toLowerCase();
    let pair = this.#buckets.get(key);
    if (pair === undefined) {
      pair = {
        read: new TokenBucket({ ratePerSec: this.#limits.readsPerSec, burst: this.#limits.readBurst }, nowMs),
        write: new TokenBucket(
          { ratePerSec: this.#limits.writesPerSec, burst: this.#limits.writeBurst },
          nowMs,
        ),
      };
      this.#buckets.set(key, pair);
    }
    const wait = pair[kind].reserve(nowMs);
    if (wait > 0) this.#delayed++;
    return wait;
  }

  /** How many calls so far had to wait for a token. */
  get delayedCalls(): number {
    return this.#delayed;
  }
}
