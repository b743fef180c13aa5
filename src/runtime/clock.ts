// Time as an injected dependency, the one Clock of the code base: the queue and its delay heap, the
// informer, the leader elector and the Azure adapter (token buckets, retries, cache expiry) all take
// a Clock so unit tests drive time with FakeClock instead of sleeping, and production uses the system.
// The pure core takes no clock: callers pass `clock.now()`.

/** Opaque handle returned by Clock.setTimer; only meaningful to the clock that made it. */
export type Timer = object;

export interface Clock {
  now(): Date;
  setTimer(fn: () => void, ms: number): Timer;
  clearTimer(t: Timer): void;
}

/** The real clock. Timers are unref'd so a pending timer never keeps the process alive. */
export const systemClock: Clock = Object.freeze({
  now: (): Date => new Date(),
  setTimer: (fn: () => void, ms: number): Timer => {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return t;
  },
  clearTimer: (t: Timer): void => {
    clearTimeout(t as ReturnType<typeof setTimeout>);
  },
});

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * Manual clock for tests: time moves only through advance()/set(); timers due within the advanced
 * span fire in (due time, creation) order, each with now() equal to its due time.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, FakeTimer>();

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimer(fn: () => void, ms: number): Timer {
    const id = this.#nextId++;
    const timer: FakeTimer = { id, at: this.#now + Math.max(0, ms), fn };
    this.#timers.set(id, timer);
    return timer;
  }

  clearTimer(t: Timer): void {
    const id = (t as Partial<FakeTimer>).id;
    if (typeof id === "number") this.#timers.delete(id);
  }

  /** Number of timers not yet fired or cleared. */
  pendingTimers(): number {
    return this.#timers.size;
  }

  /** Move time forward by ms, firing every timer that falls due (including ones set while firing). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.at > target) break;
      this.#timers.delete(next.id);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }

  /**
   * Advance in steps, letting promise continuations run between timers: for async code under test
   * (the queue's handlers) whose follow-up work is scheduled after an await.
   */
  async advanceAsync(ms: number, step = ms): Promise<void> {
    const target = this.#now + ms;
    await flushMicrotasks();
    while (this.#now < target) {
      this.advance(Math.min(step, target - this.#now));
      await flushMicrotasks();
    }
  }

  #earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers.values()) {
      if (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }
}

/** Let every queued promise continuation run (several macrotask turns, enough for chained awaits). */
export async function flushMicrotasks(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Wait ms on the given clock; rejects with the signal's reason if it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && signal?.aborted !== true) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimer(timer);
      reject(abortReason(signal));
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  const err = new Error("The operation was aborted.");
  err.name = "AbortError";
  return err;
}
