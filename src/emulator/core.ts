// The shared state every route handler works on.
import type { Operations } from "./lro.ts";
import type { Store } from "./store.ts";
import type { Throttle } from "./throttle.ts";
import type { EmulatorStats, FaultOptions, LatencyOptions, LroMode, WriteLogEntry } from "./types.ts";

/** One write at a time per NSG: the holder's operation URL is what a refused writer is told. */
export class NsgLocks {
  private readonly busy = new Map<string, string>();

  holder(key: string): string | undefined {
    return this.busy.get(key);
  }

  acquire(key: string, operationUrl: string): boolean {
    if (this.busy.has(key)) return false;
    this.busy.set(key, operationUrl);
    return true;
  }

  release(key: string): void {
    this.busy.delete(key);
  }
}

export class StatsCounter {
  reads = 0;
  writes = 0;
  throttled = 0;
  /** The 429s the throttle answered, split by bucket (throttled = their sum). */
  throttledReads = 0;
  throttledWrites = 0;
  byOperation: Record<string, number> = {};
  faults: Record<string, number> = {};
  errors: Record<string, number> = {};

  countThrottled(isWrite: boolean): void {
    this.throttled += 1;
    if (isWrite) this.throttledWrites += 1;
    else this.throttledReads += 1;
  }

  countFault(kind: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  countError(status: number, code: string): void {
    const key = `${String(status)} ${code}`;
    this.errors[key] = (this.errors[key] ?? 0) + 1;
  }

  count(operation: string, isWrite: boolean): void {
    if (isWrite) this.writes += 1;
    else this.reads += 1;
    this.byOperation[operation] = (this.byOperation[operation] ?? 0) + 1;
  }

  snapshot(): EmulatorStats {
    return {
      reads: this.reads,
      writes: this.writes,
      throttled: this.throttled,
      throttledReads: this.throttledReads,
      throttledWrites: this.throttledWrites,
      byOperation: { ...this.byOperation },
      faults: { ...this.faults },
      errors: { ...this.errors },
    };
  }

  reset(): void {
    this.reads = 0;
    this.writes = 0;
    this.throttled = 0;
    this.throttledReads = 0;
    this.throttledWrites = 0;
    this.byOperation = {};
    this.faults = {};
    this.errors = {};
  }
}

export interface Core {
  store: Store;
  ops: Operations;
  throttle: Throttle;
  locks: NsgLocks;
  stats: StatsCounter;
  endpoint: string;
  latency: LatencyOptions;
  faults: FaultOptions;
  lroMode: LroMode;
  lroDurationMs: number;
  pageSize: number;
  requireToken: boolean;
  /** Present when writes are recorded (EmulatorOptions.recordWrites). */
  writeLog?: WriteLogEntry[];
  /** Pending async completions, run at once on close. */
  pending: Map<NodeJS.Timeout, () => void>;
}

export function sleep(ms: number | undefined): Promise<void> {
  if (ms === undefined || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
