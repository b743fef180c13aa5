// The work queue that drives reconciles, keyed by string (NSG ids and others). It gives the
// guarantees the reconcilers rely on: keys coalesce (a burst of changes to one NSG is one
// reconcile), one worker per key at a time (Azure serializes writes per NSG anyway), bounded
// parallelism across keys, per-key exponential backoff on failure, and Azure's Retry-After honoured
// (a key in backoff is not run early even when new events arrive for it).
import type { Clock } from "./clock.ts";
import { DelayHeap } from "./delay-heap.ts";

export interface HandlerResult {
  /** Run this key again after this many ms (earliest pending wake-up wins); 0 = as soon as possible. */
  requeueAfterMs?: number;
  /** Run again after the key's backoff delay, as if it had failed (without logging an error). */
  requeue?: boolean;
}

export type Handler = (key: string) => Promise<HandlerResult | undefined>;

/** Hooks a queue reports through; Metrics.queueMetrics(name) implements them. */
/** In-flight probe a work queue binds so scrapes can read how long its current work has run. */
export interface InFlightProbe {
  longestRunningSeconds(): number;
  unfinishedWorkSeconds(): number;
}

/** What a work queue reports; Metrics implements it (the queue does not depend on Prometheus). */
export interface QueueMetrics {
  add(): void;
  depth(n: number): void;
  retry(): void;
  queueLatency(seconds: number): void;
  workDuration(seconds: number): void;
  bindInFlight(probe: InFlightProbe): void;
}

export interface WorkQueueOptions {
  clock: Clock;
  /** Keys processed in parallel (distinct keys only). Default 8. */
  concurrency?: number;
  /** First retry delay. Default 200 ms. */
  baseDelayMs?: number;
  /** Retry delay cap. Default 60 s. */
  maxDelayMs?: number;
  /** Fraction of the delay removed at random (0..1), spreading retries of many keys. Default 0.2. */
  jitter?: number;
  /** Random source in [0,1) for jitter; inject for deterministic tests. */
  random?: () => number;
  metrics?: QueueMetrics;
  /** Called with every handler error (after scheduling its retry), e.g. to log it. */
  onError?: (key: string, err: unknown, retryInMs: number) => void;
}

/** The delay an error asks for: AzureError (and others) may carry retryAfterMs from Retry-After. */
function retryAfterOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null || !("retryAfterMs" in err)) return undefined;
  const v = err.retryAfterMs;
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * Longest stretch of back-to-back handlers without a turn of the event loop. A handler that finds
 * nothing to wait for (a listed NSG unchanged, a plan with no write) resolves in microtasks, and the
 * next one starts from there: 20,000 such NSG keys ran 4-5 s without letting a timer fire, which
 * made a replica miss its Lease renewal. After this long the next handler starts from a macrotask.
 */
const SLICE_MS = 50;

export class WorkQueue {
  readonly #clock: Clock;
  readonly #concurrency: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #metrics: QueueMetrics | undefined;
  readonly #onError: WorkQueueOptions["onError"];
  readonly #delays: DelayHeap;
  /** Ready keys in FIFO order with the time each became ready. */
  readonly #ready = new Map<string, number>();
  /** Keys being handled, with their start time. */
  readonly #processing = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Keys added while being processed: run once more afterwards. */
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  /** Keys in backoff: not run before this time even if added again. */
  readonly #holdUntil = new Map<string, number>();
  #handler: Handler | undefined;
  #shuttingDown = false;
  /** When the current stretch of handlers began (reset once the event loop had a turn). */
  #sliceStart: number | undefined;
  #yielding = false;

  constructor(opts: WorkQueueOptions) {
    this.#clock = opts.clock;
    this.#concurrency = Math.max(1, opts.concurrency ?? 8);
    this.#baseDelayMs = opts.baseDelayMs ?? 200;
    this.#maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.#jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
    this.#random = opts.random ?? Math.random;
    this.#metrics = opts.metrics;
    this.#onError = opts.onError;
    this.#delays = new DelayHeap({
      clock: this.#clock,
      // add() re-checks the backoff hold, so an earlier pending wake-up cannot cut a backoff short.
      onDue: (key) => {
        this.add(key);
      },
    });
    this.#metrics?.bindInFlight({
      longestRunningSeconds: () => this.#longestRunningSeconds(),
      unfinishedWorkSeconds: () => this.#unfinishedWorkSeconds(),
    });
  }

  /** Queue `key` now. No-op if already queued; marks it dirty if it is being processed. */
  add(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics?.add();
    const hold = this.#holdUntil.get(key);
    if (hold !== undefined && hold > this.#nowMs()) {
      this.#delays.schedule(key, hold);
      return;
    }
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#ready.has(key)) return;
    this.#ready.set(key, this.#nowMs());
    this.#reportDepth();
    this.#pump();
  }

  /** Queue `key` after `ms`; if a wake-up for it is already pending earlier, that one wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    this.#delays.schedule(key, this.#nowMs() + ms);
  }

  /** Reset `key`'s failure count and backoff hold (it is also reset after every success). */
  forget(key: string): void {
    this.#failures.delete(key);
    this.#holdUntil.delete(key);
  }

  /** Consecutive failures of `key` so far. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Keys ready to run (not counting those processing or waiting on a delay). */
  get depth(): number {
    return this.#ready.size;
  }

  get processing(): number {
    return this.#processing.size;
  }

  /** Keys waiting on addAfter or a backoff delay. */
  get delayed(): number {
    return this.#delays.size;
  }

  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }

  /** Begin processing with `handler` (once). */
  start(handler: Handler): void {
    if (this.#handler !== undefined) throw new Error("WorkQueue.start called twice");
    this.#handler = handler;
    this.#pump();
  }

  /** Stop taking work, drop pending delays and wait for in-flight handlers to finish. */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    this.#delays.stop();
    this.#ready.clear();
    this.#reportDepth();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** The backoff delay for the n-th consecutive failure (n >= 1), before jitter. */
  backoffMs(n: number): number {
    return Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.min(n - 1, 52));
  }

  #nowMs(): number {
    return this.#clock.now().getTime();
  }

  #reportDepth(): void {
    this.#metrics?.depth(this.#ready.size);
  }

  #pump(): void {
    const handler = this.#handler;
    if (handler === undefined) return;
    while (!this.#shuttingDown && this.#processing.size < this.#concurrency) {
      const next = this.#ready.entries().next();
      if (next.done === true) break;
      const [key, readyAt] = next.value;
      this.#ready.delete(key);
      const now = this.#nowMs();
      this.#metrics?.queueLatency((now - readyAt) / 1000);
      this.#processing.set(key, now);
      const p = this.#run(handler, key);
      this.#inFlight.add(p);
      void p.finally(() => this.#inFlight.delete(p));
    }
    this.#reportDepth();
  }

  async #run(handler: Handler, key: string): Promise<void> {
    let result: HandlerResult | undefined;
    let error: unknown;
    let failed = false;
    try {
      result = await handler(key);
    } catch (err) {
      failed = true;
      error = err;
    }
    const started = this.#processing.get(key) ?? this.#nowMs();
    this.#processing.delete(key);
    this.#metrics?.workDuration((this.#nowMs() - started) / 1000);
    if (failed) this.#retry(key, retryAfterOf(error), error);
    else this.#succeeded(key, result ?? {});
    this.#next();
  }

  /** Start the next handlers now, or from a macrotask once this stretch has run SLICE_MS. */
  #next(): void {
    const now = this.#nowMs();
    this.#sliceStart ??= now;
    if (now - this.#sliceStart < SLICE_MS) {
      this.#pump();
      return;
    }
    if (this.#yielding) return;
    this.#yielding = true;
    setImmediate(() => {
      this.#yielding = false;
      this.#sliceStart = undefined;
      this.#pump();
    });
  }

  #succeeded(key: string, result: HandlerResult): void {
    if (result.requeue === true) {
      this.#retry(key, undefined, undefined);
      return;
    }
    this.forget(key);
    const dirty = this.#dirty.delete(key);
    if (dirty) this.add(key);
    if (result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
  }

  #retry(key: string, retryAfterMs: number | undefined, error: unknown): void {
    this.#dirty.delete(key);
    if (this.#shuttingDown) return;
    const n = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, n);
    const backoff = this.backoffMs(n) * (1 - this.#jitter * this.#random());
    const delay = Math.round(retryAfterMs ?? backoff);
    this.#metrics?.retry();
    this.#holdUntil.set(key, this.#nowMs() + delay);
    this.#delays.schedule(key, this.#nowMs() + delay);
    if (error !== undefined) this.#onError?.(key, error, delay);
  }

  #longestRunningSeconds(): number {
    const now = this.#nowMs();
    let max = 0;
    for (const started of this.#processing.values()) max = Math.max(max, now - started);
    return max / 1000;
  }

  #unfinishedWorkSeconds(): number {
    const now = this.#nowMs();
    let total = 0;
    for (const started of this.#processing.values()) total += now - started;
    return total / 1000;
  }
}
