// PriorityConflict: a foreign Inbound rule inside a policy's band. That policy then writes nothing
// new to the NSG (it may only narrow or remove its own allow rules, so lapsed grants still close).
import type { SecurityRule } from "./nsg.ts";
import type { NormBinding } from "./bindings.ts";
import type { PriorityConflict } from "./types.ts";

/** Index of the first rule with priority >= p in rules sorted by priority. */
function lowerBound(rules: SecurityRule[], p: number): number {
  let lo = 0;
  let hi = rules.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((rules[mid]?.priority ?? Infinity) < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Conflicts per policy key; `foreignInbound` must be sorted by priority. */
export function findConflicts(
  bindings: NormBinding[],
  foreignInbound: SecurityRule[],
  nsgName: string,
): Map<string, PriorityConflict[]> {
  const out = new Map<string, PriorityConflict[]>();
  for (const b of bindings) {
    if (out.has(b.policyKey)) continue;
    const found: PriorityConflict[] = [];
    for (let i = lowerBound(foreignInbound, b.band.from); i < foreignInbound.length; i++) {
      const rule = foreignInbound[i];
      if (rule === undefined || rule.priority > b.band.to) break;
      found.push({
        policyKey: b.policyKey,
        ruleName: rule.name,
        priority: rule.priority,
        message:
          `foreign rule ${rule.name} (Inbound, priority ${rule.priority}) sits inside the priority band ` +
          `${b.band.from}..${b.band.to} of policy ${b.policyKey} in NSG ${nsgName}; drawbridge writes no new rules there`,
      });
    }
    if (found.length > 0) out.set(b.policyKey, found);
  }
  return out;
}
