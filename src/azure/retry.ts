// When and how long the adapter retries a single ARM request. Retries are bounded and fast: the
// operator's work queue retries again with its own per-key backoff, so the adapter only smooths
// over blips (a 429 burst, a 503, a dropped connection, a write racing another write on the NSG).
import { isRetryableStatus } from "./errors.ts";

export interface RetryOptions {
  /** Retries after the first attempt (0 = no retries). */
  maxRetries: number;
  /** First backoff step; doubles each retry. */
  baseDelayMs: number;
  /** Cap of the exponential backoff. */
  maxDelayMs: number;
  /**
   * A server-requested delay (Retry-After) longer than this is not waited out in the adapter: the
   * error goes to the caller with retryAfterMs, and the work queue reschedules the key instead of
   * holding a worker.
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = Object.freeze({
  maxRetries: 3,
  baseDelayMs: 100,
  maxDelayMs: 2000,
  maxRetryAfterMs: 10_000,
});

export type AttemptOutcome =
  | { kind: "response"; status: number; code?: string | undefined; retryAfterMs?: number | undefined }
  | { kind: "timeout" }
  | { kind: "network"; code?: string | undefined };

/** Capped exponential backoff with "equal jitter": half fixed, half random, so retries spread out. */
export function backoffMs(retryIndex: number, opts: RetryOptions, random: () => number): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** retryIndex);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The delay before retry number `retryIndex` (0 = the first retry) after `outcome`, or undefined
 * when the request must not be retried (success, a non-retryable status, retries exhausted, or a
 * Retry-After beyond maxRetryAfterMs).
 */
export function retryDelayMs(
  retryIndex: number,
  outcome: AttemptOutcome,
  opts: RetryOptions,
  random: () => number,
): number | undefined {
  if (retryIndex >= opts.maxRetries) return undefined;
  if (outcome.kind === "response") {
    if (!isRetryableStatus(outcome.status, outcome.code)) return undefined;
    if (outcome.retryAfterMs !== undefined) {
      if (outcome.retryAfterMs > opts.maxRetryAfterMs) return undefined;
      // Honour the server's delay; a little jitter keeps concurrent callers from re-colliding.
      return outcome.retryAfterMs + Math.round(random() * opts.baseDelayMs);
    }
  }
  return backoffMs(retryIndex, opts, random);
}

/** Reject option values that would make retries unbounded or negative, naming the field. */
export function validateRetryOptions(o: RetryOptions): void {
  const check = (field: keyof RetryOptions, max: number): void => {
    const v = o[field];
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new RangeError(`retry.${field} must be an integer in 0..${max}, got ${v}`);
    }
  };
  check("maxRetries", 10);
  check("baseDelayMs", 60_000);
  check("maxDelayMs", 300_000);
  check("maxRetryAfterMs", 300_000);
}
