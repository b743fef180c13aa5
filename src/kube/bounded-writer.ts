// A bound on the Kubernetes writes in flight, apart from the work queue's slots. A request's
// reconcile decides in microseconds and then writes for one or two API round trips; when the
// queue's slots were the bound, a burst of 1,000 requests waited for slots held by earlier
// requests' writes before being decided at all, and the NSGs (which plan from the decision, ADR
// 0016) waited with them. With the bound here, every queued request is decided at once and only
// its writes queue, first come first served, for the API server's share.
import type { EventInput, Kind, KubeWriter, Written } from "./kube.ts";
import type { ObjectMeta } from "../api/types.ts";

export class WriteSlots {
  readonly #max: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #idle: (() => void)[] = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new Error(`write slots must be a whole number >= 1, got ${String(max)}`);
    this.#max = max;
  }

  /** Writes running now. */
  get busy(): number {
    return this.#busy;
  }

  /** Writes waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves once no write is running or waiting (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.#busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async run<T>(write: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.#max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#busy++;
    try {
      return await write();
    } finally {
      // Hand the slot straight to the next writer (busy stays the same), or free it.
      const next = this.#waiting.shift();
      if (next === undefined) this.#busy--;
      else next();
      if (this.#busy === 0) for (const r of this.#idle.splice(0)) r();
    }
  }
}

/** `inner` with at most `slots`' worth of its writes in flight at once. */
export function boundedWriter(inner: KubeWriter, slots: WriteSlots): KubeWriter {
  return {
    patchStatus: (kind: Kind, meta: ObjectMeta, status: object): Promise<Written> =>
      slots.run(() => inner.patchStatus(kind, meta, status)),
    // Composed once the slot is taken: what a queued status says is decided when it is sent.
    patchStatusFrom: (kind: Kind, meta: ObjectMeta, compose: () => object): Promise<Written> =>
      slots.run(() => inner.patchStatusFrom(kind, meta, compose)),
    setFinalizers: (kind: Kind, meta: ObjectMeta, finalizers: string[]): Promise<Written> =>
      slots.run(() => inner.setFinalizers(kind, meta, finalizers)),
    deleteObject: (kind: Kind, meta: ObjectMeta): Promise<void> =>
      slots.run(() => inner.deleteObject(kind, meta)),
    event: (kind: Kind, meta: ObjectMeta, e: EventInput): Promise<void> =>
      slots.run(() => inner.event(kind, meta, e)),
    // Only after a write whose outcome is unknown; it shares the writes' bound on the API server.
    getObject: (kind: Kind, meta: ObjectMeta): Promise<Written | undefined> =>
      slots.run(() => inner.getObject(kind, meta)),
  };
}
