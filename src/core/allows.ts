// Allow rules: one per (policy, target, protocol, port) with grants, sources = union of the grants'
// prefixes. Limits are spent in a stable order: living rules and the sources they already carry
// first, then new rules (each with its first source), then the remaining new sources. Whatever
// does not fit is rejected with the limit it would break.
import { slotKey } from "./bindings.ts";
import { allowNameFrom } from "./names.ts";
import type { SecurityRule } from "./nsg.ts";
import {
  bandFull,
  conflictMessage,
  keepable,
  refund,
  reject,
  spend,
  withoutReadOnly,
} from "./plan-context.ts";
import type { DenySlot, PlanContext } from "./plan-context.ts";
import { allocateLow } from "./priorities.ts";
import { buildAllowRule, rulePrefixCount, ruleSources } from "./rules.ts";
import type { Grant } from "./types.ts";

interface Candidate {
  slot: DenySlot;
  port: number;
  name: string;
  grants: Grant[];
  /** Distinct grant sources in grant order. */
  sources: string[];
  observed?: SecurityRule;
  priority?: number;
  chosen: Set<string>;
  failure?: string;
}

function candidatesOf(
  ctx: PlanContext,
  slots: DenySlot[],
  index: Map<string, Map<number, Grant[]>>,
): Candidate[] {
  const out: Candidate[] = [];
  for (const slot of slots) {
    const bySlot = index.get(slot.b.key);
    if (bySlot === undefined) continue;
    for (const port of slot.ports) {
      const grants = bySlot.get(slotKey(slot.protocol, port));
      if (grants === undefined || grants.length === 0) continue;
      const name = allowNameFrom(slot.b.rulePrefix, slot.protocol, port);
      const observed = ctx.managed.get(name);
      const seen = new Set<string>();
      const sources: string[] = [];
      for (const g of grants) {
        if (!seen.has(g.sourcePrefix)) {
          seen.add(g.sourcePrefix);
          sources.push(g.sourcePrefix);
        }
      }
      const c: Candidate = { slot, port, name, grants, sources, chosen: new Set() };
      if (observed !== undefined) c.observed = observed;
      out.push(c);
    }
  }
  return out;
}

/** A conflicted policy: keep its living allow rule, narrowed to sources still granted; nothing new. */
function frozenAllow(ctx: PlanContext, c: Candidate): SecurityRule | undefined {
  const message = conflictMessage(ctx, c.slot.b.policyKey);
  if (c.observed === undefined) {
    reject(ctx, c.grants, "PriorityConflict", message);
    return undefined;
  }
  const had = new Set(ruleSources(c.observed));
  const kept = c.sources.filter((p) => had.has(p)).sort();
  reject(
    ctx,
    c.grants.filter((g) => !had.has(g.sourcePrefix)),
    "PriorityConflict",
    message,
  );
  if (kept.length === 0) return undefined;
  const base = withoutReadOnly(c.observed);
  delete base.sourceAddressPrefix;
  delete base.sourceAddressPrefixes;
  const rule: SecurityRule =
    kept.length === 1 && (kept[0] === "*" || kept[0] === "Internet")
      ? { ...base, sourceAddressPrefix: kept[0] }
      : { ...base, sourceAddressPrefixes: kept };
  spend(ctx, 1, rulePrefixCount(rule));
  for (const grant of c.grants) {
    if (had.has(grant.sourcePrefix))
      ctx.placements.push({ grant, ruleName: rule.name, priority: rule.priority });
  }
  return rule;
}

function placeLiving(ctx: PlanContext, c: Candidate): void {
  const deny = c.slot.rule;
  if (deny === undefined || c.observed === undefined) return;
  const p = keepable(ctx, c.name, c.slot.b, deny.priority);
  if (p === undefined) return;
  c.failure = spend(ctx, 1, c.slot.b.destinations.length);
  if (c.failure !== undefined) return;
  c.priority = p;
  const had = new Set(ruleSources(c.observed));
  for (const s of c.sources) {
    if (had.has(s) && spend(ctx, 0, 1) === undefined) c.chosen.add(s);
  }
}

function placeNew(ctx: PlanContext, c: Candidate): void {
  const deny = c.slot.rule;
  if (deny === undefined || c.priority !== undefined || c.failure !== undefined) return;
  const first = c.sources[0];
  const cost = c.slot.b.destinations.length + 1;
  c.failure = spend(ctx, 1, cost);
  if (c.failure !== undefined || first === undefined) return;
  const p = allocateLow(ctx.alloc, c.slot.b.band, deny.priority);
  if (p === undefined) {
    refund(ctx, 1, cost);
    c.failure = bandFull(ctx, c.slot.b, `port ${c.port}/${c.slot.protocol}`);
    return;
  }
  c.priority = p;
  c.chosen.add(first);
}

function addSources(ctx: PlanContext, c: Candidate): void {
  if (c.priority === undefined) return;
  for (const s of c.sources) {
    if (c.chosen.has(s)) continue;
    const failure = spend(ctx, 0, 1);
    if (failure === undefined) c.chosen.add(s);
    else c.failure = failure;
  }
}

const MIX_MESSAGE =
  "an Azure rule cannot combine the Internet service tag with address prefixes; request a specific prefix instead";

/** The rule a candidate becomes, placing or rejecting each of its grants. */
function finish(ctx: PlanContext, c: Candidate): SecurityRule | undefined {
  const failure = c.failure ?? c.slot.failure ?? "the baseline deny could not be placed";
  if (c.priority === undefined) {
    reject(ctx, c.grants, "CapacityExceeded", failure);
    return undefined;
  }
  if (c.chosen.has("Internet") && c.chosen.size > 1 && !c.chosen.has("*") && !c.chosen.has("Any")) {
    c.chosen.delete("Internet");
    reject(
      ctx,
      c.grants.filter((g) => g.sourcePrefix === "Internet"),
      "CapacityExceeded",
      MIX_MESSAGE,
    );
  }
  if (c.chosen.size === 0) {
    reject(
      ctx,
      c.grants.filter((g) => g.sourcePrefix !== "Internet"),
      "CapacityExceeded",
      failure,
    );
    return undefined;
  }
  const rule = buildAllowRule(c.slot.b, c.slot.protocol, c.port, [...c.chosen], c.priority);
  for (const grant of c.grants) {
    if (c.chosen.has(grant.sourcePrefix))
      ctx.placements.push({ grant, ruleName: rule.name, priority: rule.priority });
    else if (grant.sourcePrefix !== "Internet" || c.chosen.size === 0) {
      ctx.rejected.push({ grant, reason: "CapacityExceeded", message: failure });
    }
  }
  return rule;
}

/** The desired allow rules of the NSG. */
export function placeAllows(
  ctx: PlanContext,
  slots: DenySlot[],
  index: Map<string, Map<number, Grant[]>>,
): SecurityRule[] {
  const all = candidatesOf(ctx, slots, index);
  const out: SecurityRule[] = [];
  const open: Candidate[] = [];
  for (const c of all) {
    if (!ctx.frozen.has(c.slot.b.policyKey)) {
      open.push(c);
      continue;
    }
    const rule = frozenAllow(ctx, c);
    if (rule !== undefined) out.push(rule);
  }
  for (const c of open) placeLiving(ctx, c);
  for (const c of open) placeNew(ctx, c);
  for (const c of open) addSources(ctx, c);
  for (const c of open) {
    const rule = finish(ctx, c);
    if (rule !== undefined) out.push(rule);
  }
  return out;
}
