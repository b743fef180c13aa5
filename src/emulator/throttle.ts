// Token buckets per subscription, one for reads and one for writes, the way ARM throttles.

import type { ThrottleOptions } from "./types.ts";

class Bucket {
  private tokens: number;
  private last: number;
  private readonly burst: number;
  private readonly perSec: number;

  constructor(burst: number, perSec: number, now: number) {
    this.burst = burst;
    this.perSec = perSec;
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSec);
    this.last = now;
  }

  /** Takes a token; returns the ms to wait when empty, or 0 when taken. */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.perSec) * 1000);
  }

  remaining(): number {
    return Math.floor(this.tokens);
  }
}

export interface ThrottleResult {
  /** 0 when admitted; otherwise the seconds the client must wait. */
  retryAfterSec: number;
  remainingReads: number;
  remainingWrites: number;
}

export class Throttle {
  private readonly buckets = new Map<string, { reads: Bucket; writes: Bucket }>();
  private readonly limits: ThrottleOptions | undefined;
  private readonly now: () => number;

  constructor(limits: ThrottleOptions | undefined, now: () => number = Date.now) {
    this.limits = limits;
    this.now = now;
  }

  admit(subscription: string, isWrite: boolean): ThrottleResult {
    const l = this.limits;
    if (l === undefined) return { retryAfterSec: 0, remainingReads: 249, remainingWrites: 199 };
    const key = subscription.toLowerCase();
    const now = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = {
        reads: new Bucket(l.readBurst, l.readPerSec, now),
        writes: new Bucket(l.writeBurst, l.writePerSec, now),
      };
      this.buckets.set(key, b);
    }
    const waitMs = (isWrite ? b.writes : b.reads).take(now);
    return {
      retryAfterSec: waitMs === 0 ? 0 : Math.max(1, Math.ceil(waitMs / 1000)),
      remainingReads: b.reads.remaining(),
      remainingWrites: b.writes.remaining(),
    };
  }
}
