// Approval-aware batching of NSG writes. Azure serializes writes per NSG and each takes seconds, so a
// burst of requests is best carried by one write, not one per approval: while requests of an NSG's
// policies are still undecided (created, not yet seen by the request reconciler), an NSG reconcile
// that would only add grants waits for them. The last decision wakes the NSG at once.
// The wait is capped by the observed duration of one write (and by --batch-max-hold): a grant that
// arrives during the hold rides the next write, done within hold + L <= 2L, which is no worse than
// waiting for a write already in flight and then its own (the 2L bound of docs/performance.md, Targets).
// Concurrent creations reach the cache a few tens of ms apart, so the first approval can find the
// others not yet seen: for ARRIVAL_SETTLE_MS after a policy's latest new request the NSG waits too
// (still capped by one write's duration, so where writes are fast it costs nothing).
// A pending removal (a lapsed or revoked grant) is never held, and nothing is held when no request
// is undecided or just arrived.
import type { AccessRequest } from "../../api/types.ts";
import { policyKeyOf } from "../../core/keys.ts";
import type { Grant } from "../../core/index.ts";
import type { NsgRecord } from "../state/ledger.ts";

/** How long after a policy's latest new request its NSGs keep waiting for more. */
export const ARRIVAL_SETTLE_MS = 200;

/** Requests not yet decided (no phase written), per policy key "namespace/name". */
export class UndecidedRequests {
  readonly #byPolicy = new Map<string, Set<string>>();
  readonly #policyOf = new Map<string, string>();
  /** Policy key -> when its latest undecided request was first seen. */
  readonly #lastArrival = new Map<string, number>();

  /** Track a request change; returns the policy whose undecided set just became empty, if any. */
  update(key: string, r: AccessRequest, deleted: boolean, nowMs: number): string | undefined {
    const undecided = !deleted && r.status?.phase === undefined && r.metadata.deletionTimestamp === undefined;
    const policyKey = policyKeyOf(r);
    const was = this.#policyOf.get(key);
    if (undecided) {
      if (was === policyKey) return undefined;
      this.#lastArrival.set(policyKey, nowMs);
      const emptied = was === undefined ? undefined : this.#remove(key, was);
      this.#policyOf.set(key, policyKey);
      let set = this.#byPolicy.get(policyKey);
      if (set === undefined) this.#byPolicy.set(policyKey, (set = new Set()));
      set.add(key);
      return emptied;
    }
    return was === undefined ? undefined : this.#remove(key, was);
  }

  clear(): void {
    this.#byPolicy.clear();
    this.#policyOf.clear();
    this.#lastArrival.clear();
  }

  /** Milliseconds left of the settle period after the policy's latest new request (<= 0: none). */
  settleLeft(policyKey: string, nowMs: number): number {
    const at = this.#lastArrival.get(policyKey);
    return at === undefined ? 0 : at + ARRIVAL_SETTLE_MS - nowMs;
  }

  count(policyKey: string): number {
    return this.#byPolicy.get(policyKey)?.size ?? 0;
  }

  #remove(key: string, policyKey: string): string | undefined {
    this.#policyOf.delete(key);
    const set = this.#byPolicy.get(policyKey);
    if (set === undefined || !set.delete(key) || set.size > 0) return undefined;
    this.#byPolicy.delete(policyKey);
    return policyKey;
  }
}

/** Exponentially weighted mean of the duration of one ARM write, as this operator observes it. */
export class WriteLatency {
  readonly #initialMs: number;
  readonly #weight: number;
  #meanMs: number | undefined;

  constructor(initialMs: number, weight = 0.3) {
    this.#initialMs = initialMs;
    this.#weight = weight;
  }

  observe(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#meanMs = this.#meanMs === undefined ? ms : this.#meanMs + this.#weight * (ms - this.#meanMs);
  }

  get meanMs(): number {
    return this.#meanMs ?? this.#initialMs;
  }
}

export interface HoldInput {
  /** Undecided requests of the NSG's policies. */
  undecided: number;
  /** Time left of the arrival settle period of the NSG's policies (<= 0: none). */
  settleLeftMs: number;
  grants: readonly Grant[];
  prev: NsgRecord | undefined;
  maxHoldMs: number;
}

/** How long a new hold of this NSG's reconcile should last (0 = go now). Pure. */
export function holdMs(h: HoldInput): number {
  if ((h.undecided === 0 && h.settleLeftMs <= 0) || h.maxHoldMs <= 0) return 0;
  const placed = h.prev?.placements;
  const current = new Set<string>();
  let adds = false;
  for (const g of h.grants) {
    current.add(g.requestKey);
    if (placed?.has(g.requestKey) !== true) adds = true;
  }
  if (!adds) return 0;
  for (const k of placed?.keys() ?? []) if (!current.has(k)) return 0;
  return holdLeft(h.maxHoldMs, h.undecided, h.settleLeftMs);
}

/** What is left of a hold with `capLeftMs` to go: all of it while requests are undecided (their last
 * decision wakes the NSG), else only the rest of the arrival settle period. */
export function holdLeft(capLeftMs: number, undecided: number, settleLeftMs: number): number {
  if (capLeftMs <= 0) return 0;
  return undecided > 0 ? capLeftMs : Math.max(0, Math.min(capLeftMs, settleLeftMs));
}
