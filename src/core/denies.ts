// Baseline deny placement: living denies keep their priority; new ones take the highest free
// priority of the band. A conflicted policy writes no new deny, but the one it has is restored to
// exactly what drawbridge writes: a hand edit never survives a conflict.
import { addPriority, allocateHigh, hasPriority } from "./priorities.ts";
import { livingDeny, ruleAt } from "./living.ts";
import { bandFull, conflictMessage, keepable, refund, spend } from "./plan-context.ts";
import type { DenySlot, PlanContext } from "./plan-context.ts";
import type { SecurityRule } from "./nsg.ts";
import { buildDenyRule, rulePrefixCount } from "./rules.ts";

/**
 * The living deny of a conflicted policy, rewritten to the binding's deny: a rule edited by hand
 * into an Allow, or to more ports, sources or destinations, is never kept as it is. A Deny only
 * narrows, so restoring it is safe while everything else of the policy waits. It stays at its own
 * priority when that is an Inbound one no other rule holds (even outside the band: moving it could
 * only let more through meanwhile); else it takes the highest free priority of the band; failing
 * both, the tampered rule goes (deleted as stale) rather than stay as it was edited.
 */
function placeFrozen(ctx: PlanContext, s: DenySlot, observed: SecurityRule): void {
  const own =
    observed.direction === "Inbound" &&
    !hasPriority(ctx.claimed, observed.priority) &&
    !hasPriority(ctx.foreignInboundPriorities, observed.priority);
  const p = own ? observed.priority : allocateHigh(ctx.alloc, s.b.band);
  if (p === undefined) {
    s.failure =
      `${conflictMessage(ctx, s.b.policyKey)}; the hand-edited baseline deny ${observed.name} is removed ` +
      `(no free priority to restore it at)`;
    return;
  }
  addPriority(ctx.claimed, p);
  const rule = buildDenyRule(s.b, s.protocol, s.ports, p, observed);
  // Kept whatever the limits say: the rule exists already, and a deny only narrows.
  spend(ctx, 1, rulePrefixCount(rule));
  s.rule = rule;
}

function placeLiving(ctx: PlanContext, s: DenySlot): void {
  s.living = livingDeny(ctx.living, s.b, s.protocol);
  const observed = ruleAt(ctx.living, s.living);
  if (ctx.frozen.has(s.b.policyKey)) {
    if (observed === undefined) s.failure = conflictMessage(ctx, s.b.policyKey);
    else placeFrozen(ctx, s, observed);
    return;
  }
  const p = keepable(ctx, observed, s.b, Infinity);
  if (p === undefined) return;
  const rule = buildDenyRule(s.b, s.protocol, s.ports, p, observed);
  s.failure = spend(ctx, 1, rulePrefixCount(rule));
  if (s.failure === undefined) s.rule = rule;
}

function placeNew(ctx: PlanContext, s: DenySlot): void {
  const cost = 1 + s.b.destinations.length;
  s.failure = spend(ctx, 1, cost);
  if (s.failure !== undefined) return;
  const p = allocateHigh(ctx.alloc, s.b.band);
  if (p === undefined) {
    refund(ctx, 1, cost);
    s.failure = bandFull(ctx, s.b, `the baseline deny of ${s.protocol}`);
  } else s.rule = buildDenyRule(s.b, s.protocol, s.ports, p, ruleAt(ctx.living, s.living));
}

/** Living denies first (so they keep their place in the limits), then new ones. */
export function placeDenies(ctx: PlanContext, slots: DenySlot[]): void {
  for (const s of slots) placeLiving(ctx, s);
  for (const s of slots) if (s.rule === undefined && s.failure === undefined) placeNew(ctx, s);
}
