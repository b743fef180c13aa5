// The one poll-until helper of the test harnesses: call `fn` every `stepMs` until it returns a value
// other than undefined or false, and fail naming `what` (and the last error `fn` threw) after
// `timeoutMs`. An error thrown by `fn` counts as "not yet": the stack may still be starting.

export async function eventually<T>(
  what: string,
  fn: () => Promise<T> | T,
  timeoutMs = 30_000,
  stepMs = 100,
): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as Exclude<T, false | undefined>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
