// Retry delays for webhook posts: exponential with full jitter (AWS architecture blog), capped.
// Pure given `random`.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/** The wait before retry number `attempt` (1 = the first retry): uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffMs(
  attempt: number,
  o: BackoffOptions = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.floor(random() * ceiling);
}

/** Whether a response status is worth retrying: throttling and server errors, not client errors. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
