// The work queue's delayed keys (addAfter, backoff retries, and through them every expiry wake-up):
// one entry per key (the earliest wins) in a min-heap with a single armed timer for the earliest due
// entry, so 10,000 pending expiries cost one timer and O(log n) per schedule. Revocation must happen
// at expiresAt, not at the next resync, and it is this heap's timer that fires then.
import type { Clock, Timer } from "./clock.ts";
import { MinHeap } from "./heap.ts";

interface Entry {
  readonly key: string;
  readonly at: number;
}

/** setTimeout's limit; longer delays are re-armed when they fire. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DelayHeapOptions {
  clock: Clock;
  /** Called once per key when its time arrives (typically `queue.add(key)`). Must not throw. */
  onDue: (key: string) => void;
}

export class DelayHeap {
  readonly #clock: Clock;
  readonly #onDue: (key: string) => void;
  readonly #heap = new MinHeap<Entry>((e) => e.at);
  /** The live entry per key; heap entries not in here are stale and skipped. */
  readonly #live = new Map<string, Entry>();
  #timer: Timer | undefined;
  #armedAt: number | undefined;
  #stopped = false;

  constructor(opts: DelayHeapOptions) {
    this.#clock = opts.clock;
    this.#onDue = opts.onDue;
  }

  /** Wake `key` at `at`, unless it is already due earlier. A time in the past fires on the next tick. */
  schedule(key: string, at: Date | number): void {
    if (this.#stopped) return;
    const ms = typeof at === "number" ? at : at.getTime();
    if (Number.isNaN(ms)) throw new RangeError(`schedule(${key}): invalid time`);
    const current = this.#live.get(key);
    if (current !== undefined && current.at <= ms) return;
    const entry = { key, at: ms };
    this.#live.set(key, entry);
    this.#heap.push(entry);
    this.#compactIfStale();
    this.#arm();
  }

  /** Drop the pending wakeup of `key`, if any. */
  cancel(key: string): void {
    if (this.#live.delete(key)) this.#compactIfStale();
  }

  /** When `key` is due, or undefined when nothing is scheduled for it. */
  dueAt(key: string): Date | undefined {
    const e = this.#live.get(key);
    return e === undefined ? undefined : new Date(e.at);
  }

  /** Number of keys with a pending wakeup. */
  get size(): number {
    return this.#live.size;
  }

  /** Cancel everything and disarm; later schedule() calls are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#live.clear();
    this.#heap.filter(() => false);
    this.#disarm();
  }

  #compactIfStale(): void {
    if (this.#heap.size > 64 && this.#heap.size > 2 * this.#live.size) {
      this.#heap.filter((e) => this.#live.get(e.key) === e);
    }
  }

  #peekLive(): Entry | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined || this.#live.get(top.key) === top) return top;
      this.#heap.pop();
    }
  }

  #arm(): void {
    const top = this.#peekLive();
    if (top === undefined) {
      this.#disarm();
      return;
    }
    if (this.#armedAt !== undefined && this.#armedAt <= top.at) return;
    this.#disarm();
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, top.at - this.#clock.now().getTime()));
    this.#armedAt = top.at;
    this.#timer = this.#clock.setTimer(() => {
      this.#fire();
    }, delay);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedAt = undefined;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = undefined;
    const now = this.#clock.now().getTime();
    const due: string[] = [];
    for (let top = this.#peekLive(); top !== undefined && top.at <= now; top = this.#peekLive()) {
      this.#heap.pop();
      this.#live.delete(top.key);
      due.push(top.key);
    }
    this.#arm();
    for (const key of due) this.#onDue(key);
  }
}
