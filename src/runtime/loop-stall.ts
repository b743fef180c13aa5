// A watchdog of the event loop: a timer that should fire every interval and logs when it fired late
// by more than a threshold. Lease renewals (leader election, shard Leases) and watch deadlines all
// run on this loop, so a replica that loses a Lease after a long gap between renewals needs to know
// whether its own loop stood still (CPU starvation, a long synchronous stretch, a collection) or
// the API server's answer was slow; the renewal log says the second, this says the first.
import type { Logger } from "./logger.ts";

export interface LoopStallOptions {
  logger: Logger;
  /** How often the timer is set (ms). */
  intervalMs?: number;
  /** A timer later than this (ms) is logged as a stall. */
  thresholdMs?: number;
  /** Monotonic milliseconds; performance.now by default. */
  now?: () => number;
  /** Called with every stall's length (ms), for a metric. */
  onStall?: (ms: number) => void;
}

/** Starts the watchdog; returns its stop. The timer does not keep the process alive. */
export function watchLoopStalls(o: LoopStallOptions): () => void {
  const interval = o.intervalMs ?? 500;
  const threshold = o.thresholdMs ?? 1_000;
  const now = o.now ?? ((): number => performance.now());
  let expected = now() + interval;
  const timer = setInterval(() => {
    const t = now();
    const late = Math.round(t - expected);
    expected = t + interval;
    if (late <= threshold) return;
    o.onStall?.(late);
    o.logger.warn({ stalledMs: late, intervalMs: interval }, "event loop stalled: timers ran late");
  }, interval);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}
