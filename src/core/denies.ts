// Baseline deny placement: living denies keep their priority; new ones take the highest free
// priority of the band. A conflicted policy keeps whatever deny it already has, untouched.
import { allocateHigh } from "./priorities.ts";
import { livingDeny, ruleAt } from "./living.ts";
import { bandFull, conflictMessage, keepable, refund, spend, withoutReadOnly } from "./plan-context.ts";
import type { DenySlot, PlanContext } from "./plan-context.ts";
import { buildDenyRule, rulePrefixCount } from "./rules.ts";

function placeLiving(ctx: PlanContext, s: DenySlot): void {
  s.living = livingDeny(ctx.living, s.b, s.protocol);
  const observed = ruleAt(ctx.living, s.living);
  if (ctx.frozen.has(s.b.policyKey)) {
    if (observed === undefined) s.failure = conflictMessage(ctx, s.b.policyKey);
    else {
      s.rule = withoutReadOnly(observed);
      spend(ctx, 1, rulePrefixCount(observed));
    }
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
