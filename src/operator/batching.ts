// Approval-aware batching of NSG writes. Azure serializes writes per NSG and each takes seconds, so a
// burst of requests is best carried by one write, not one per approval: while requests of an NSG's
// policies are still undecided (created, not yet seen by the request reconciler), an NSG reconcile
// that would only add grants waits for them. The last decision wakes the NSG at once.
// The wait is capped by the observed duration of one write (and by --batch-max-hold): a grant that
// arrives during the hold rides the next write, done within hold + L <= 2L, which is no worse than
// waiting for a write already in flight and then its own (the 2L bound of DESIGN §5).
// A pending removal (a lapsed or revoked grant) is never held, and neither is anything when no
// request is undecided, so a single request goes straight through.
import type { AccessRequest } from "../api/types.ts";
import type { Grant } from "../core/index.ts";
import type { NsgRecord } from "./ledger.ts";

/** Requests not yet decided (no phase written), per policy key "namespace/name". */
export class UndecidedRequests {
  readonly #byPolicy = new Map<string, Set<string>>();
  readonly #policyOf = new Map<string, string>();

  /** Track a request change; returns the policy whose undecided set just became empty, if any. */
  update(key: string, r: AccessRequest, deleted: boolean): string | undefined {
    const undecided = !deleted && r.status?.phase === undefined && r.metadata.deletionTimestamp === undefined;
    const policyKey = `${r.metadata.namespace ?? ""}/${r.spec.policyName}`;
    const was = this.#policyOf.get(key);
    if (undecided) {
      if (was === policyKey) return undefined;
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
  nowMs: number;
  /** Undecided requests of the NSG's policies. */
  undecided: number;
  grants: readonly Grant[];
  prev: NsgRecord | undefined;
  /** When this NSG's current hold began, if one is running. */
  heldSinceMs: number | undefined;
  maxHoldMs: number;
}

/** How long to keep holding this NSG's reconcile (0 = go now). Pure. */
export function holdMs(h: HoldInput): number {
  if (h.undecided === 0 || h.maxHoldMs <= 0) return 0;
  const placed = h.prev?.placements;
  const current = new Set<string>();
  let adds = false;
  for (const g of h.grants) {
    current.add(g.requestKey);
    if (placed?.has(g.requestKey) !== true) adds = true;
  }
  if (!adds) return 0;
  for (const k of placed?.keys() ?? []) if (!current.has(k)) return 0;
  const since = h.heldSinceMs ?? h.nowMs;
  return Math.max(0, h.maxHoldMs - (h.nowMs - since));
}
