// NSG documents a resync has listed, handed to the NSG reconciler so it need not GET each NSG again.
// A document stays usable until the next resync pass replaces it (or drops it: not listed again),
// until it is used (the next pass lists the NSG anyway, and a reconcile after a change reads
// afresh), or until this operator writes the NSG. It has no age limit: at 20,000 NSGs the start-up
// backlog outlasts any fixed one, and every NSG was then read twice.
//
// A document is never used when it may predate a write of ours: a write that began before the list
// and was still in flight, or one that ended (done or failed halfway) after the list began. A
// failed apply may have changed some rules, so it counts as a write.
//
// Memory: only what the planner needs is kept (id, etag, location and the rules without their
// read-only fields). An ObservedNsg the adapter read or wrote keeps the SDK's whole document alive
// (mapped weakly for `nsg`-mode PUTs): 155 MiB of heap at 20,000 NSGs against 21 MiB for the copies
// (bench/prefetch-heap.ts), which filled the operator's 256 MiB heap. Listed ones no longer do.
import type { ObservedNsg, SecurityRule } from "../../core/index.ts";
import type { Clock } from "../../runtime/clock.ts";

interface Entry {
  doc: ObservedNsg;
  listedAt: number;
}

/** A copy holding only what the planner reads; no longer the key to the adapter's SDK document. */
export function slimNsg(doc: ObservedNsg): ObservedNsg {
  const rules = doc.securityRules.map((r): SecurityRule => {
    const { etag: _etag, provisioningState: _state, ...rest } = r;
    return rest;
  });
  const out: ObservedNsg = { id: doc.id, securityRules: rules };
  if (doc.etag !== undefined) out.etag = doc.etag;
  if (doc.location !== undefined) out.location = doc.location;
  return out;
}

export class Prefetch {
  readonly #clock: Clock;
  readonly #docs = new Map<string, Entry>();
  /** NSG key -> writes of ours in flight. */
  readonly #writing = new Map<string, number>();
  /** NSG key -> when our last write to it ended (done or failed); forgotten once no list predates it. */
  readonly #wroteAt = new Map<string, number>();
  /** Settles when the list pass in flight (if any) has ended. */
  #passes: Promise<unknown> = Promise.resolve();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Keeps the document of a list that began at `listedAt`; false when a write of ours may postdate it. */
  put(key: string, doc: ObservedNsg, listedAt: number): boolean {
    if (this.#stale(key, listedAt)) {
      this.#docs.delete(key);
      return false;
    }
    this.#docs.set(key, { doc: slimNsg(doc), listedAt });
    return true;
  }

  /** The listed document for `key`, if still trustworthy; removes it either way. */
  take(key: string, lastWriteAt: number | undefined): ObservedNsg | undefined {
    const e = this.#docs.get(key);
    if (e === undefined) return undefined;
    this.#docs.delete(key);
    if (lastWriteAt !== undefined && lastWriteAt >= e.listedAt) return undefined;
    if (this.#stale(key, e.listedAt)) return undefined;
    return e.doc;
  }

  /**
   * Marks a write of ours to `key` as begun: its listed document goes, and none is kept or used
   * until the returned function marks the write ended. Call that on success and on failure alike.
   */
  writing(key: string): () => void {
    this.#docs.delete(key);
    this.#writing.set(key, (this.#writing.get(key) ?? 0) + 1);
    let ended = false;
    return (): void => {
      if (ended) return;
      ended = true;
      const n = (this.#writing.get(key) ?? 1) - 1;
      if (n > 0) this.#writing.set(key, n);
      else this.#writing.delete(key);
      this.#wroteAt.set(key, this.#clock.now().getTime());
    };
  }

  /**
   * The NSG may have been written up to now by another writer (the replica that held its shard):
   * as after a write of ours, no document listed before now is used.
   */
  invalidate(key: string): void {
    this.writing(key)();
  }

  /**
   * Runs a list pass once the one in flight has ended (resync and shard take-over passes alike):
   * endPass forgets write times on the grounds that passes never overlap.
   */
  listPass<T>(pass: () => Promise<T>): Promise<T> {
    const run = this.#passes.then(pass);
    this.#passes = run.catch(() => undefined);
    return run;
  }

  /**
   * Ends a resync pass that began at `started`: documents it did not list again (the NSG is gone or
   * unbound, or its subscription's list failed) are dropped, and so are write times no later list
   * can predate (passes never overlap, listPass, so every later document is listed after `started`).
   */
  endPass(started: number): void {
    for (const [k, e] of this.#docs) if (e.listedAt < started) this.#docs.delete(k);
    for (const [k, at] of this.#wroteAt) if (at < started) this.#wroteAt.delete(k);
  }

  #stale(key: string, listedAt: number): boolean {
    if (this.#writing.has(key)) return true;
    const at = this.#wroteAt.get(key);
    return at !== undefined && at >= listedAt;
  }

  get size(): number {
    return this.#docs.size;
  }
}
