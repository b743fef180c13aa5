// NSG documents a resync has just listed, handed to the NSG reconciler so it need not GET each NSG
// again. A document is used once, and only if this operator has not written the NSG since the list
// began (otherwise it may predate our own write and the reconciler reads afresh).
import type { ObservedNsg } from "../../core/index.ts";
import type { Clock } from "../../runtime/clock.ts";

interface Entry {
  doc: ObservedNsg;
  listedAt: number;
}

export class Prefetch {
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  #docs = new Map<string, Entry>();

  constructor(clock: Clock, maxAgeMs: number) {
    this.#clock = clock;
    this.#maxAgeMs = maxAgeMs;
  }

  put(key: string, doc: ObservedNsg, listedAt: number): void {
    this.#docs.set(key, { doc, listedAt });
  }

  /** The listed document for `key`, if still trustworthy; removes it either way. */
  take(key: string, lastWriteAt: number | undefined): ObservedNsg | undefined {
    const e = this.#docs.get(key);
    if (e === undefined) return undefined;
    this.#docs.delete(key);
    if (lastWriteAt !== undefined && lastWriteAt >= e.listedAt) return undefined;
    if (this.#clock.now().getTime() - e.listedAt > this.#maxAgeMs) return undefined;
    return e.doc;
  }

  get size(): number {
    return this.#docs.size;
  }
}
