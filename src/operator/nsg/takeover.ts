// NSGs of a shard taken over (ADR 0018) are planned from a list begun after the take-over, not read
// one GET each: at 20,000 NSGs a hand-over was 5,000-10,000 GETs, past ARM's read burst (250 per
// subscription, then 25/s), and ARM answered a thousand and more of them 429.
//
// The previous holder may have written the NSGs after our last list, so a document listed before the
// take-over is never planned from: every key is invalidated in the prefetch (as a write of ours would
// be), and its reconcile waits (`waits`) until a list that began strictly later (by the clock's ms,
// which is what the prefetch compares) has kept its document. Shards taken together share a pass; a
// shard taken while a pass lists waits for the next one. The pass lists the subscriptions of its keys
// page by page, as the resync does, and runs only between resync passes (Prefetch.listPass): the
// prefetch's bookkeeping holds only while no two list passes overlap. When the pass ends, every key
// is queued, listed or not: an NSG the list did not show, or whose subscription's list failed, is read
// with a GET as before (and found missing there).
import type { AzurePort } from "../../azure/port.ts";
import type { BindingIndex } from "../state/bindings.ts";
import { nsgKey, subscriptionOf } from "../state/keys.ts";
import type { Prefetch } from "./prefetch.ts";
import type { Clock, Timer } from "../../runtime/clock.ts";
import type { Logger } from "../../runtime/logger.ts";

export interface TakeoverDeps {
  azure: AzurePort;
  bindings: Pick<BindingIndex, "nsgId">;
  prefetch: Prefetch;
  clock: Clock;
  log: Logger;
  /** Queue an NSG key for its reconcile (the list's document, if kept, waits in the prefetch). */
  wakeNsg(key: string): void;
}

export interface TakeoverStats {
  keys: number;
  subscriptions: number;
  /** Keys whose listed document was kept for their reconcile. */
  listed: number;
  failedSubscriptions: number;
}

export class TakeoverLists {
  readonly #d: TakeoverDeps;
  /** Keys taken over that wait for a pass not begun yet. */
  #waiting = new Set<string>();
  /** Keys of the pass in flight (its list began after they were taken over). */
  #listing = new Set<string>();
  /** Clock ms of the latest take-over: a pass must begin later than this. */
  #takenAt = Number.NEGATIVE_INFINITY;
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Ends the wait for a later clock ms at once (stop). */
  #cancelWait: (() => void) | undefined;

  constructor(deps: TakeoverDeps) {
    this.#d = deps;
  }

  /** The keys were just taken over: no document listed before now is planned from; a pass is due. */
  takeOver(keys: Iterable<string>): void {
    if (this.#stopped) return;
    let any = false;
    for (const k of keys) {
      this.#d.prefetch.invalidate(k);
      this.#waiting.add(k);
      any = true;
    }
    if (!any) return;
    this.#takenAt = this.#d.clock.now().getTime();
    this.#schedule();
  }

  /** The key waits for a take-over list: its reconcile is left to the pass's end, which queues it. */
  waits(key: string): boolean {
    return this.#waiting.has(key) || this.#listing.has(key);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#d.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#cancelWait?.();
    await this.#running;
  }

  /** After this turn (shards taken in one balancing round are reported one after another). */
  #schedule(): void {
    if (this.#timer !== undefined || this.#running !== undefined || this.#stopped) return;
    this.#timer = this.#d.clock.setTimer(() => {
      this.#timer = undefined;
      this.#running = this.#d.prefetch
        .listPass(() => this.#pass())
        .then(() => undefined)
        .catch((err: unknown) => {
          this.#d.log.error({ err: String(err) }, "take-over list failed");
        })
        .finally(() => {
          this.#running = undefined;
          if (this.#waiting.size > 0) this.#schedule();
        });
    }, 0);
  }

  async #pass(): Promise<TakeoverStats | undefined> {
    const d = this.#d;
    await this.#afterLastTakeOver();
    if (this.#stopped) return undefined;
    // Read the start and take the keys in one turn: a take-over after this joins the next pass.
    const started = d.clock.now().getTime();
    const batch = this.#waiting;
    this.#waiting = new Set();
    this.#listing = batch;
    const stats: TakeoverStats = { keys: batch.size, subscriptions: 0, listed: 0, failedSubscriptions: 0 };
    try {
      const subs = new Set<string>();
      for (const k of batch) {
        const s = subscriptionOf(d.bindings.nsgId(k));
        if (s !== undefined) subs.add(s);
      }
      stats.subscriptions = subs.size;
      for (const sub of subs) {
        if (this.#isStopped()) break;
        try {
          const docs = await d.azure.listNsgs(sub);
          for (const doc of docs) {
            const k = nsgKey(doc.id);
            // Taken over again while listing: that take-over is later than this list.
            if (!batch.has(k) || this.#waiting.has(k)) continue;
            if (d.prefetch.put(k, doc, started)) stats.listed++;
          }
        } catch (err) {
          stats.failedSubscriptions++;
          d.log.warn(
            { subscription: sub, err: String(err) },
            "listing NSGs taken over failed; reading them one by one",
          );
        }
      }
    } finally {
      this.#listing = new Set();
      if (!this.#isStopped()) for (const k of batch) if (!this.#waiting.has(k)) d.wakeNsg(k);
    }
    d.log.info({ ...stats, ms: d.clock.now().getTime() - started }, "listed the NSGs of shards taken over");
    return stats;
  }

  /** Read through a call: stop() may run while a pass awaits, which narrowing does not see. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  /**
   * Resolves once the clock reads a later ms than the latest take-over (at once when it already
   * does), or on stop. A take-over while this waits moves the mark, so the pass waits on for it.
   */
  async #afterLastTakeOver(): Promise<void> {
    const c = this.#d.clock;
    while (c.now().getTime() <= this.#takenAt && !this.#isStopped())
      await new Promise<void>((resolve) => {
        const t = c.setTimer(() => {
          this.#cancelWait = undefined;
          resolve();
        }, 1);
        this.#cancelWait = (): void => {
          this.#cancelWait = undefined;
          c.clearTimer(t);
          resolve();
        };
      });
  }
}
