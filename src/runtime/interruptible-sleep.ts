// The waiting of a Lease campaign (leader election, shard Leases) over the injected Clock: sleeps
// between rounds that stop() ends at once, so a replica shutting down or losing a Lease releases
// without waiting out a retry period, and deadlines on API calls, so a hung call counts as a failed
// one before the renew deadline passes instead of holding the campaign.
import type { Clock, Timer } from "./clock.ts";

/** A call that did not settle within its deadline. */
export class DeadlineExceededError extends Error {
  constructor(ms: number) {
    super(`no answer within the deadline of ${String(ms)} ms`);
    this.name = "DeadlineExceededError";
  }
}

export class InterruptibleSleep {
  readonly #clock: Clock;
  readonly #sleepers = new Set<() => void>();
  #stopped = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** A method, so a check after an await is not folded away by the type checker. */
  isStopped(): boolean {
    return this.#stopped;
  }

  nowMs(): number {
    return this.#clock.now().getTime();
  }

  /** Resolves after ms, or earlier on wake() or stop(); at once after stop(). */
  sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimer(() => {
        this.#sleepers.delete(wake);
        resolve();
      }, ms);
      const wake = (): void => {
        this.#clock.clearTimer(timer);
        resolve();
      };
      this.#sleepers.add(wake);
    });
  }

  /** Ends every sleep in progress; later sleeps wait again. */
  wake(): void {
    for (const w of this.#sleepers) w();
    this.#sleepers.clear();
  }

  /** Ends every sleep in progress and makes later ones return at once. */
  stop(): void {
    this.#stopped = true;
    this.wake();
  }

  /** p's outcome, or DeadlineExceededError when p has not settled within ms (at once when ms <= 0). */
  within<T>(p: Promise<T>, ms: number): Promise<T> {
    let timer: Timer | undefined;
    const late = new Promise<never>((_, reject) => {
      const fail = (): void => {
        reject(new DeadlineExceededError(ms));
      };
      if (ms <= 0) fail();
      else timer = this.#clock.setTimer(fail, ms);
    });
    return Promise.race([p, late]).finally(() => {
      if (timer !== undefined) this.#clock.clearTimer(timer);
    });
  }
}
