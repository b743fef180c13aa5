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
  #rate: number;
  #burst: number;
  #tokens: number;
  #last: number;

  constructor(limits: BucketLimits, nowMs: number) {
    checkLimits(limits);
    this.#rate = limits.ratePerSec;
    this.#burst = limits.burst;
    this.#tokens = limits.burst;
    this.#last = nowMs;
  }

  /**
   * New rate and size from now on: the time until now refills at the old rate, a balance above the
   * new size is cut to it, and reservations already handed out keep their waits.
   */
  resize(limits: BucketLimits, nowMs: number): void {
    checkLimits(limits);
    this.#refill(nowMs);
    this.#rate = limits.ratePerSec;
    this.#burst = limits.burst;
    this.#tokens = Math.min(this.#tokens, limits.burst);
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

function checkLimits(limits: BucketLimits): void {
  if (!(limits.ratePerSec > 0) || !Number.isFinite(limits.ratePerSec)) {
    throw new RangeError(`rate must be a positive number of calls per second, got ${limits.ratePerSec}`);
  }
  if (!(limits.burst >= 1) || !Number.isFinite(limits.burst)) {
    throw new RangeError(`burst must be at least 1, got ${limits.burst}`);
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
  #limits: RateLimits;
  readonly #buckets = new Map<string, { read: TokenBucket; write: TokenBucket }>();
  #delayed = 0;

  constructor(limits: RateLimits) {
    // Fail at construction, naming the field, rather than on the first call.
    checkLimits(readLimits(limits));
    checkLimits(writeLimits(limits));
    this.#limits = { ...limits };
  }

  /** The limits every subscription's buckets have now. */
  get limits(): RateLimits {
    return { ...this.#limits };
  }

  /**
   * Re-size every subscription's buckets (and those made later), e.g. to this replica's share of
   * the subscription's budget when replicas come or go.
   */
  setLimits(limits: RateLimits, nowMs: number): void {
    checkLimits(readLimits(limits));
    checkLimits(writeLimits(limits));
    this.#limits = { ...limits };
    for (const pair of this.#buckets.values()) {
      pair.read.resize(readLimits(limits), nowMs);
      pair.write.resize(writeLimits(limits), nowMs);
    }
  }

  /** Reserve a token for a call; returns the wait in ms. */
  reserve(subscriptionId: string, kind: CallKind, nowMs: number): number {
    const key = subscriptionId.toLowerCase();
    let pair = this.#buckets.get(key);
    if (pair === undefined) {
      pair = {
        read: new TokenBucket(readLimits(this.#limits), nowMs),
        write: new TokenBucket(writeLimits(this.#limits), nowMs),
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

function readLimits(l: RateLimits): BucketLimits {
  return { ratePerSec: l.readsPerSec, burst: l.readBurst };
}

function writeLimits(l: RateLimits): BucketLimits {
  return { ratePerSec: l.writesPerSec, burst: l.writeBurst };
}
