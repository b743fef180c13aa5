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

/** Re-observation delays while the owner is still writing: 0.5 s doubling to 30 s. */
export class ObservePolls {
  readonly #streak = new Map<string, number>();

  /** Delay before looking again (undefined when the NSG is as planned: stop polling). */
  next(key: string, unchanged: boolean): number | undefined {
    if (unchanged) {
      this.#streak.delete(key);
      return undefined;
    }
    const n = this.#streak.get(key) ?? 0;
    this.#streak.set(key, n + 1);
    return Math.min(30_000, 500 * 2 ** Math.min(n, 6));
  }
}
