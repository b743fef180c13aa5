// Plans one NSG for one operator instance: its desired rules, and the writes that bring the observed
// NSG there. Foreign rules (every rule not the instance's own, other instances' included) never
// appear in puts or deletes and pass into the whole-NSG body untouched.
import { planDesired } from "./desired.ts";
import type { SecurityRule } from "./nsg.ts";
import { sameRule } from "./rules.ts";
import type { NsgPlan, PlanInput } from "./types.ts";

function denyFirst(a: SecurityRule, b: SecurityRule): number {
  if (a.access !== b.access) return a.access === "Deny" ? -1 : 1;
  return a.priority - b.priority;
}

function allowFirst(a: SecurityRule, b: SecurityRule): number {
  return a.access === b.access ? a.priority - b.priority : a.access === "Allow" ? -1 : 1;
}

function keptMask(n: number, kept: number[]): Uint8Array {
  const mask = new Uint8Array(n);
  for (const i of kept) mask[i] = 1;
  return mask;
}

export function planNsg(input: PlanInput): NsgPlan {
  const { state, ctx, placed } = planDesired(input);
  const observed = ctx.living.rules;
  // matched[i]: some desired rule carries the name of observed managed rule i.
  // Rules kept exactly as observed (legacy denies not yet replaced, clashing names) are in desired
  // and the body, and never deleted.
  const matched = keptMask(observed.length, ctx.kept);
  const puts: SecurityRule[] = [];
  // In placement order: puts are sorted below, ties kept in this order, as desired (stably sorted
  // by priority from the same order) would keep them.
  for (let k = 0; k < placed.rules.length; k++) {
    const rule = placed.rules[k];
    const i = placed.living[k] ?? -1;
    if (rule === undefined) continue;
    const had = i < 0 ? undefined : observed[i];
    if (i >= 0) matched[i] = 1;
    if (had === undefined || !sameRule(had, rule)) puts.push(rule);
  }
  puts.sort(denyFirst);
  // Allow rules go first so that a grant never outlives the deny that bounded it.
  const stale: SecurityRule[] = [];
  const lastOf = ctx.living.lastOf;
  for (let i = 0; i < observed.length; i++) {
    const last = lastOf[i] ?? -1;
    const r = observed[last];
    if (last >= 0 && matched[last] === 0 && r !== undefined) stale.push(r);
  }
  stale.sort(allowFirst);
  const deletes = stale.map((r) => r.name);
  const nsgBody = ctx.foreign.concat(state.desired);
  return {
    desired: state.desired,
    puts,
    deletes,
    nsgBody,
    conflicts: state.conflicts,
    shadowed: state.shadowed,
    rejected: state.rejected,
    placements: state.placements,
    unchanged: puts.length === 0 && deletes.length === 0,
  };
}
