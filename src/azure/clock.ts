// The adapter's view of time: the operator's Clock (src/runtime/clock.ts) satisfies it, so
// tests can drive token buckets, retries and cache expiry without sleeping.
import type { Clock } from "../runtime/clock.ts";

export type AdapterClock = Pick<Clock, "now" | "setTimer" | "clearTimer">;

export const systemAdapterClock: AdapterClock = Object.freeze({
  now: (): Date => new Date(),
  setTimer: (fn: () => void, ms: number): ReturnType<typeof setTimeout> => {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return t;
  },
  clearTimer: (t: unknown): void => {
    clearTimeout(t as ReturnType<typeof setTimeout>);
  },
});

/** Wait ms on the given clock; rejects with the signal's reason if it aborts first. */
export function sleep(clock: AdapterClock, ms: number, signal?: AbortSignal): Promise<void> {
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
