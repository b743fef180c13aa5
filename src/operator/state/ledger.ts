// What the NSG reconciler last achieved per NSG, in memory: which grants each NSG now carries, which
// grants it had to reject or failed to write, and the policy findings. The request and policy
// reconcilers read it to decide Active / Denied / Failed / finalizer removal. After a restart it is
// empty until every bound NSG has been reconciled once, which the operator does at start.
import type { GrantRuleStatus } from "../../api/types.ts";
import type { PriorityConflict, ShadowedBaseline } from "../../core/types.ts";

export interface Reason {
  reason: string;
  message: string;
}

/**
 * How an NSG carries one request: the rules, and the expiresAt (epoch ms) of the grant they were
 * planned with. A placement counts only for that grant: when an approval's write is lost and the
 * request is approved again (a new expiresAt), the rules planned for the first approval may be on
 * their way out, and the request is not Active until a reconcile that planned the current grant
 * recorded it.
 */
export interface Placement {
  rules: readonly GrantRuleStatus[];
  expiresAt: number;
}

export interface NsgRecord {
  /** Sequence number taken when the reconcile gathered its inputs (see Ledger.nextSeq). */
  seq: number;
  /** Grant placements in the NSG after the reconcile, per request key. */
  placements: ReadonlyMap<string, Placement>;
  /** Grants the planner refused (capacity, priority conflict), per request key. */
  rejected: ReadonlyMap<string, Reason>;
  /** Grants whose rule Azure refused as invalid, per request key. */
  failed: ReadonlyMap<string, Reason>;
  /**
   * Rules Azure refused as invalid, per policy key, grant or not: a refused baseline deny carries no
   * grant, so without this nobody would hear of it and the policy would claim Ready.
   */
  refusedRules?: ReadonlyMap<string, Reason>;
  conflicts: readonly PriorityConflict[];
  shadowed: readonly ShadowedBaseline[];
  /** Set when the NSG itself could not be reconciled (e.g. it does not exist). */
  error: Reason | undefined;
  /** Clock time (ms) of the last write this operator made to the NSG. */
  lastWriteAt: number | undefined;
  /** Policies that still have managed rules in the NSG. */
  policiesWithRules: ReadonlySet<string>;
  /**
   * Set when the reconcile found the NSG converged (nothing written or refused): the etag it planned
   * from and the identity of its inputs, so a resync can skip planning an NSG nothing has touched.
   */
  basis?: { etag: string; inputs: readonly unknown[] } | undefined;
}

/** Distinct policy sets the ledger shares before it starts over. */
const MAX_POLICY_SETS = 10_000;

export class Ledger {
  /**
   * One empty map, set and list for every record that has nothing in one of them: an empty Map
   * costs ~180 bytes, and a converged NSG's rejected, failed and refused maps and its findings are
   * all empty (20,000 NSGs: ~12 MiB). Records are never changed once built (all read-only).
   */
  readonly #noReasons: ReadonlyMap<string, Reason> = new Map();
  readonly #noPolicies: ReadonlySet<string> = new Set();
  readonly #noPlacements: ReadonlyMap<string, Placement> = new Map();
  readonly #noFindings: readonly never[] = Object.freeze([]);
  /**
   * One set per distinct list of policies with rules, shared by the records that have it: a set
   * costs ~230 bytes, and every NSG a policy's target lands in usually has that policy alone.
   */
  readonly #policySets = new Map<string, ReadonlySet<string>>();
  #seq = 0;
  #records = new Map<string, NsgRecord>();
  #waiters = new Map<string, Set<string>>();

  /** A fresh sequence number: records made from inputs gathered later carry a higher one. */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** The current sequence: a record with a higher seq was gathered after this call. */
  mark(): number {
    return this.#seq;
  }

  get(nsgKey: string): NsgRecord | undefined {
    return this.#records.get(nsgKey);
  }

  /** Store a record unless a newer one (higher seq) is already there; returns the previous record. */
  record(nsgKey: string, rec: NsgRecord): NsgRecord | undefined {
    const prev = this.#records.get(nsgKey);
    if (prev !== undefined && prev.seq > rec.seq) return prev;
    this.#records.set(nsgKey, this.#compact(rec));
    return prev;
  }

  /** `rec` with its empty maps and set replaced by the ledger's shared empty ones. */
  #compact(rec: NsgRecord): NsgRecord {
    const reasons = (m: ReadonlyMap<string, Reason>): ReadonlyMap<string, Reason> =>
      m.size === 0 ? this.#noReasons : m;
    const compact: NsgRecord = {
      ...rec,
      placements: rec.placements.size === 0 ? this.#noPlacements : rec.placements,
      rejected: reasons(rec.rejected),
      failed: reasons(rec.failed),
      policiesWithRules: this.#policies(rec.policiesWithRules),
      conflicts: rec.conflicts.length === 0 ? this.#noFindings : rec.conflicts,
      shadowed: rec.shadowed.length === 0 ? this.#noFindings : rec.shadowed,
    };
    if (rec.refusedRules !== undefined) compact.refusedRules = reasons(rec.refusedRules);
    return compact;
  }

  /** The ledger's set equal to `set` (the same members, in the same order). */
  #policies(set: ReadonlySet<string>): ReadonlySet<string> {
    if (set.size === 0) return this.#noPolicies;
    // Policy keys are "namespace/name": no "\n" in them.
    const key = [...set].join("\n");
    const known = this.#policySets.get(key);
    if (known !== undefined) return known;
    if (this.#policySets.size >= MAX_POLICY_SETS) this.#policySets.clear();
    this.#policySets.set(key, set);
    return set;
  }

  forget(nsgKey: string): void {
    this.#records.delete(nsgKey);
  }

  /** Ask to be woken (by request key) after the next record of this NSG. */
  addWaiter(nsgKey: string, requestKey: string): void {
    let set = this.#waiters.get(nsgKey);
    if (set === undefined) {
      set = new Set();
      this.#waiters.set(nsgKey, set);
    }
    set.add(requestKey);
  }

  takeWaiters(nsgKey: string): string[] {
    const set = this.#waiters.get(nsgKey);
    this.#waiters.delete(nsgKey);
    return [...(set ?? [])];
  }
}
