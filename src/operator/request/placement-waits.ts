// Waits for an NSG placement to change, per request key. The NSG reconciler wakes the requests whose
// placements it changed; an approval whose status write has not been sent yet waits here (bounded)
// for its rules, so that one status write can say approved and Active (ADR 0021).
import type { Clock } from "../../runtime/clock.ts";

export class PlacementWaits {
  readonly #clock: Clock;
  readonly #waiting = new Map<string, Set<() => void>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Resolves at the next changed(key), or after ms, whichever comes first. */
  next(key: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.#waiting.get(key);
      if (set === undefined) this.#waiting.set(key, (set = new Set()));
      const waiters = set;
      const done = (): void => {
        this.#clock.clearTimer(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiting.get(key) === waiters) this.#waiting.delete(key);
        resolve();
      };
      const timer = this.#clock.setTimer(done, ms);
      waiters.add(done);
    });
  }

  /** The placements of a request changed: every wait on it ends. */
  changed(key: string): void {
    const set = this.#waiting.get(key);
    if (set === undefined) return;
    for (const done of [...set]) done();
  }

  /** Keys with a wait pending (for tests and metrics). */
  get size(): number {
    return this.#waiting.size;
  }
}
