// The finalizer wait of the request and policy reconcilers: an object that no longer needs rules
// (a request no longer a grant, a policy being deleted) keeps its finalizer until every NSG it is
// bound to was reconciled after that moment and no longer carries it. The moment is a ledger mark,
// taken once per key and kept until the wait is over or the object needs rules again.
import type { Ledger, NsgRecord } from "./ledger.ts";

export class ClearanceWait {
  readonly #ledger: Ledger;
  readonly #marks = new Map<string, number>();

  constructor(ledger: Ledger) {
    this.#ledger = ledger;
  }

  /** The NSGs of `nsgs` not yet reconciled without `key` since its wait began (which starts now if new). */
  pending(key: string, nsgs: readonly string[], carries: (rec: NsgRecord) => boolean): string[] {
    let mark = this.#marks.get(key);
    if (mark === undefined) {
      mark = this.#ledger.mark();
      this.#marks.set(key, mark);
    }
    return nsgs.filter((nsg) => {
      const rec = this.#ledger.get(nsg);
      return rec === undefined || rec.seq <= mark || carries(rec);
    });
  }

  /** Ends the wait of `key`: the object is gone or needs rules again. */
  forget(key: string): void {
    this.#marks.delete(key);
  }
}
