// Observe-only reconciles: the decider (shard 0's holder, ADR 0018) needs to know what an NSG of
// another shard carries before it writes a request Active, and must never write that NSG. It reads
// the NSG, plans as the owner would, and records only what is already there: a placement counts once
// its rule is in the NSG as planned (not among the plan's puts). While the owner still has writes to
// make the record is conservative: it does not count as "reconciled since" for a finalizer wait (a
// rule to delete may still be there) and every bound policy is assumed to still have rules.
import type { NsgPlan, PolicyBinding } from "../../core/index.ts";
import type { NsgRecord } from "../state/ledger.ts";
import type { ApplyResult } from "./apply.ts";

/** The plan as an apply that wrote nothing: placements only of rules already in place. */
export function observedResult(plan: NsgPlan): ApplyResult {
  if (plan.unchanged) return { plan, refused: new Map(), writes: 0 };
  const pending = new Set(plan.puts.map((r) => r.name.toLowerCase()));
  const placements = plan.placements.filter((p) => !pending.has(p.ruleName.toLowerCase()));
  return { plan: { ...plan, placements }, refused: new Map(), writes: 0 };
}

/** The record to store after an observation (see the file comment for the conservative parts). */
export function observedRecord(
  rec: NsgRecord,
  prev: NsgRecord | undefined,
  plan: NsgPlan,
  bindings: PolicyBinding[],
): NsgRecord {
  if (plan.unchanged) return rec;
  return {
    ...rec,
    seq: Math.min(rec.seq, prev?.seq ?? 0),
    basis: undefined,
    policiesWithRules: new Set([...rec.policiesWithRules, ...bindings.map((b) => b.policyKey)]),
  };
}

/**
 * The first look after a wake waits this long: the owner is woken by the same change (later, by its
 * own watch) and needs at least a write and one operation poll before Azure shows the rule, so a look
 * at once finds the NSG as it was and only costs a read.
 */
export const FIRST_LOOK_MS = 1_000;

/** Looks at one NSG are at least this far apart, however many wakes come meanwhile. */
export const LOOK_GAP_MS = 500;

/**
 * Observation timing: the first look after a wake deferred, looks at least LOOK_GAP_MS apart, and
 * 0.5 s doubling to 30 s while the owner is still writing.
 */
export class ObservePolls {
  readonly #streak = new Map<string, number>();
  /** Key -> clock ms before which it is not looked at again. */
  readonly #notBefore = new Map<string, number>();

  /**
   * Before an observation: how long to wait instead, or undefined to go on now. `listed`: the
   * observation is of a document already listed (it costs no read, so it never waits).
   */
  defer(key: string, nowMs: number, listed: boolean): number | undefined {
    const at = this.#notBefore.get(key);
    if (!listed) {
      if (at === undefined && !this.#streak.has(key)) {
        this.#notBefore.set(key, nowMs + FIRST_LOOK_MS);
        return FIRST_LOOK_MS;
      }
      if (at !== undefined && nowMs < at) return at - nowMs;
    }
    this.#notBefore.set(key, nowMs + LOOK_GAP_MS);
    return undefined;
  }

  /** Delay before looking again (undefined when the NSG is as planned: stop polling). */
  next(key: string, unchanged: boolean): number | undefined {
    if (unchanged) {
      this.#notBefore.delete(key);
      this.#streak.delete(key);
      return undefined;
    }
    const n = this.#streak.get(key) ?? 0;
    this.#streak.set(key, n + 1);
    return Math.min(30_000, 500 * 2 ** Math.min(n, 6));
  }
}
