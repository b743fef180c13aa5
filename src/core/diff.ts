// Plans one NSG: desired managed rules, and the writes that bring the observed NSG there. Foreign
// rules never appear in puts or deletes and pass into the whole-NSG body untouched.
import { desiredRules } from "./desired.ts";
import { isManagedRule } from "./nsg.ts";
import type { SecurityRule } from "./nsg.ts";
import { sameRule } from "./rules.ts";
import type { NsgPlan, PlanInput } from "./types.ts";

function denyFirst(a: SecurityRule, b: SecurityRule): number {
  if (a.access !== b.access) return a.access === "Deny" ? -1 : 1;
  return a.priority - b.priority;
}

export function planNsg(input: PlanInput): NsgPlan {
  const state = desiredRules(input);
  const observed = new Map<string, SecurityRule>();
  const foreign: SecurityRule[] = [];
  for (const r of input.nsg.securityRules) {
    if (isManagedRule(r)) observed.set(r.name, r);
    else foreign.push(r);
  }
  const desiredNames = new Set<string>();
  const puts: SecurityRule[] = [];
  for (const rule of state.desired) {
    desiredNames.add(rule.name);
    const had = observed.get(rule.name);
    if (had === undefined || !sameRule(had, rule)) puts.push(rule);
  }
  puts.sort(denyFirst);
  // Allow rules go first so that a grant never outlives the deny that bounded it.
  const stale = [...observed.values()].filter((r) => !desiredNames.has(r.name));
  stale.sort((a, b) => (a.access === b.access ? a.priority - b.priority : a.access === "Allow" ? -1 : 1));
  const deletes = stale.map((r) => r.name);
  return {
    desired: state.desired,
    puts,
    deletes,
    nsgBody: [...foreign, ...state.desired],
    conflicts: state.conflicts,
    shadowed: state.shadowed,
    rejected: state.rejected,
    placements: state.placements,
    unchanged: puts.length === 0 && deletes.length === 0,
  };
}
