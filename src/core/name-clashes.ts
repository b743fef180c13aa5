// Two bindings of one NSG must never share a rule name: the second PUT would overwrite the first's
// rule, and a delete of one would remove the other's. With a 64-bit cryptographic hash in every name
// this takes a collision nobody can craft, but the planner refuses it all the same: neither binding
// writes or deletes anything, their rules stay exactly as observed, their grants are rejected, and
// both policies are frozen with a conflict naming the other.
import type { NormBinding } from "./bindings.ts";
import { livingRulesOf } from "./living.ts";
import { reject, spend } from "./plan-context.ts";
import type { PlanContext } from "./plan-context.ts";
import { addPriority } from "./priorities.ts";
import { rulePrefixCount } from "./rules.ts";
import type { Grant, PriorityConflict } from "./types.ts";

/** Each binding whose rule-name prefix (in any letter case) another binding of the list shares, with that other. */
export function findNameClashes(list: NormBinding[]): Map<NormBinding, NormBinding> {
  const byPrefix = new Map<string, NormBinding>();
  const out = new Map<NormBinding, NormBinding>();
  for (const b of list) {
    const key = b.foldedPrefix ?? b.rulePrefix.toLowerCase();
    const other = byPrefix.get(key);
    if (other === undefined) {
      byPrefix.set(key, b);
      continue;
    }
    out.set(b, other);
    if (!out.has(other)) out.set(other, b);
  }
  return out;
}

function clashMessage(b: NormBinding, other: NormBinding, nsgName: string): string {
  return (
    `rule names of policy ${b.policyKey} for target ${b.targetName} collide with those of policy ` +
    `${other.policyKey} for target ${other.targetName} in NSG ${nsgName} (${b.rulePrefix}*); ` +
    `neither writes rules there until one is renamed`
  );
}

/**
 * Holds the clashing bindings: their living rules are kept as observed (counted against the limits,
 * their priorities claimed), their grants rejected, their policies frozen. Returns the other bindings.
 */
export function holdClashes(ctx: PlanContext, list: NormBinding[]): NormBinding[] {
  const clashes = findNameClashes(list);
  if (clashes.size === 0) return list;
  const keptSeen = new Set<number>();
  for (const [b, other] of clashes) {
    const message = clashMessage(b, other, ctx.nsgName);
    const conflict: PriorityConflict = {
      policyKey: b.policyKey,
      ruleName: b.rulePrefix,
      priority: b.band.from,
      message,
      otherPolicyKey: other.policyKey,
    };
    const frozen = ctx.frozen.get(b.policyKey);
    if (frozen === undefined) ctx.frozen.set(b.policyKey, [conflict]);
    else frozen.push(conflict);
    const grants: Grant[] = [];
    for (const list of b.grants?.values() ?? []) for (const g of list) grants.push(g);
    reject(ctx, grants, "PriorityConflict", message);
    for (const i of livingRulesOf(ctx.living, b)) {
      if (keptSeen.has(i)) continue;
      keptSeen.add(i);
      const r = ctx.living.rules[i];
      if (r === undefined) continue;
      ctx.kept.push(i);
      if (r.direction === "Inbound") addPriority(ctx.claimed, r.priority);
      spend(ctx, 1, rulePrefixCount(r));
    }
  }
  return list.filter((b) => !clashes.has(b));
}
