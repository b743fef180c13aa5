// The managed rules one NSG must hold (DESIGN §2): per (policy, target, protocol) a baseline deny at
// the high end of the band; per (policy, target, protocol, port) an allow from the low end carrying
// the union of the active grants' sources. Living rules keep their priority; Azure's limits are
// enforced and whatever does not fit is rejected, never dropped silently, never widened.
import { placeAllows } from "./allows.ts";
import { indexGrants, normalizeBindings } from "./bindings.ts";
import { findConflicts } from "./conflicts.ts";
import { placeDenies } from "./denies.ts";
import { shortTargetName } from "./names.ts";
import { instanceRulePrefix } from "./nsg.ts";
import type { SecurityRule } from "./nsg.ts";
import { newPlanContext } from "./plan-context.ts";
import type { DenySlot, PlanContext } from "./plan-context.ts";
import { findShadowed, foreignAllows } from "./shadow.ts";
import { sortedByPriority } from "./sorting.ts";
import type {
  GrantPlacement,
  PlanInput,
  PriorityConflict,
  RejectedGrant,
  ShadowedBaseline,
} from "./types.ts";

export interface DesiredState {
  desired: SecurityRule[];
  conflicts: PriorityConflict[];
  shadowed: ShadowedBaseline[];
  rejected: RejectedGrant[];
  placements: GrantPlacement[];
  denies: DenySlot[];
}

/** What planNsg diffs: the desired rules in the order they were placed, each with the index of the
 * observed own rule of its name (or -1). */
export interface Placed {
  rules: SecurityRule[];
  living: number[];
}

/** The desired state and the plan context it was computed in (planNsg reuses its index of observed rules). */
export function planDesired(input: PlanInput): { state: DesiredState; ctx: PlanContext; placed: Placed } {
  const instance = input.instance ?? "";
  const ctx = newPlanContext(input.nsg, shortTargetName(input.nsg.id), instanceRulePrefix(instance));
  const table = normalizeBindings(input.bindings, instance);
  const bindings = table.list;
  ctx.frozen = findConflicts(bindings, ctx.foreignInbound, ctx.nsgName);
  const slots: DenySlot[] = [];
  for (const b of bindings) {
    // Indexed, not destructured: destructuring a tuple allocates an iterator per entry.
    for (const entry of b.protocols) slots.push({ b, protocol: entry[0], ports: entry[1], living: -1 });
  }
  placeDenies(ctx, slots);
  indexGrants(table, input.grants);
  const placed: Placed = { rules: [], living: [] };
  for (const s of slots) {
    if (s.rule === undefined) continue;
    placed.rules.push(s.rule);
    placed.living.push(s.living);
  }
  placeAllows(ctx, slots, placed.rules, placed.living);
  const desired = sortedByPriority(placed.rules);
  const conflicts: PriorityConflict[] = [];
  for (const list of ctx.frozen.values()) for (const c of list) conflicts.push(c);
  const state: DesiredState = {
    desired,
    conflicts,
    shadowed: findShadowed(slots, foreignAllows(ctx.foreignInbound)),
    rejected: ctx.rejected,
    placements: ctx.placements,
    denies: slots,
  };
  return { state, ctx, placed };
}

export function desiredRules(input: PlanInput): DesiredState {
  return planDesired(input).state;
}
