// The periodic resync: read every NSG of each subscription the policies reference with paged list
// calls (not one GET per NSG), hand each listed document to the NSG reconciler and queue it. The
// planner then writes only where the NSG drifted or a grant lapsed, so a converged estate costs the
// list calls and nothing else. Policies are queued too, to re-resolve their VM targets.
//
// A listed NSG no policy binds is queued too when it still carries a rule of this instance: its
// policy was deleted while no operator ran (finalizer stripped), its namespace force-deleted, or its
// NIC moved. Planned with zero bindings, those rules are deleted. Besides the subscriptions of bound
// NSGs, `subscriptions()` names more to list (e.g. those JitScopes name), where such orphans may lie.
import type { AzurePort } from "../../azure/port.ts";
import { isOwnRule } from "../../core/index.ts";
import type { ObservedNsg } from "../../core/index.ts";
import type { BindingIndex } from "../state/bindings.ts";
import { nsgKey, subscriptionOf } from "../state/keys.ts";
import type { Prefetch } from "./prefetch.ts";
import type { Clock, Timer } from "../../runtime/clock.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { Metrics } from "../../runtime/metrics.ts";

export interface ResyncDeps {
  azure: AzurePort;
  bindings: BindingIndex;
  prefetch: Prefetch;
  clock: Clock;
  log: Logger;
  metrics: Metrics | undefined;
  intervalMs: number;
  /** This operator instance ("" = the default instance): whose orphaned rules the resync looks for. */
  instanceId: string;
  /**
   * Look for this instance's rules in NSGs no binding reaches (default true). Off for a
   * single-namespace operator of the default instance: other single-namespace operators of the
   * default instance write the same names, and their baseline denies must never look like orphans.
   */
  orphans?: boolean;
  /** More subscriptions to list besides those of bound NSGs (ids, any letter case); default none. */
  subscriptions?: () => string[];
  wakeNsg(key: string): void;
  wakeAllPolicies(): void;
}

export interface ResyncStats {
  subscriptions: number;
  listed: number;
  queued: number;
  /** Unbound NSGs queued because they carry rules of this instance. */
  orphans: number;
  failedSubscriptions: number;
}

function carriesOwnRule(doc: ObservedNsg, instance: string): boolean {
  for (const r of doc.securityRules) if (isOwnRule(r, instance)) return true;
  return false;
}

/** One pass: list, prefetch, queue. A subscription whose list fails falls back to per-NSG reads. */
export async function resyncOnce(d: ResyncDeps): Promise<ResyncStats> {
  const started = d.clock.now().getTime();
  const bound = new Set(d.bindings.allNsgs());
  const subs = new Set<string>();
  for (const k of bound) {
    const s = subscriptionOf(d.bindings.nsgId(k));
    if (s !== undefined) subs.add(s);
  }
  for (const s of d.subscriptions?.() ?? []) subs.add(s.toLowerCase());
  const stats: ResyncStats = {
    subscriptions: subs.size,
    listed: 0,
    queued: 0,
    orphans: 0,
    failedSubscriptions: 0,
  };
  const seen = new Set<string>();
  const orphans = new Set<string>();
  for (const sub of subs) {
    try {
      const docs = await d.azure.listNsgs(sub);
      stats.listed += docs.length;
      for (const doc of docs) {
        const k = nsgKey(doc.id);
        if (!bound.has(k)) {
          if (d.orphans === false || !carriesOwnRule(doc, d.instanceId)) continue;
          // The listed document carries the NSG's id: the reconciler deletes the rules there.
          orphans.add(k);
        }
        d.prefetch.put(k, doc, started);
        seen.add(k);
      }
    } catch (err) {
      stats.failedSubscriptions++;
      d.log.warn({ subscription: sub, err: String(err) }, "listing NSGs failed; reading them one by one");
    }
  }
  d.prefetch.endPass(started);
  for (const k of bound) {
    d.wakeNsg(k);
    stats.queued++;
  }
  for (const k of orphans) {
    d.wakeNsg(k);
    stats.queued++;
  }
  stats.orphans = orphans.size;
  d.wakeAllPolicies();
  d.metrics?.resyncDuration.observe((d.clock.now().getTime() - started) / 1000);
  d.log.debug({ ...stats, prefetched: seen.size }, "resync queued");
  return stats;
}

/** Runs resyncOnce now and every intervalMs until stopped; passes never overlap (Prefetch.listPass). */
export class ResyncLoop {
  readonly #d: ResyncDeps;
  #timer: Timer | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(deps: ResyncDeps) {
    this.#d = deps;
  }

  start(): void {
    this.#stopped = false;
    this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#d.clock.clearTimer(this.#timer);
    await this.#running;
  }

  #tick(): void {
    if (this.#stopped) return;
    // Never beside a shard take-over's list pass (Prefetch.listPass).
    this.#running = this.#d.prefetch
      .listPass(async () => (this.#stopped ? undefined : resyncOnce(this.#d)))
      .then(() => undefined)
      .catch((err: unknown) => {
        this.#d.log.error({ err: String(err) }, "resync failed");
      })
      .finally(() => {
        if (!this.#stopped)
          this.#timer = this.#d.clock.setTimer(() => {
            this.#tick();
          }, this.#d.intervalMs);
      });
  }
}
