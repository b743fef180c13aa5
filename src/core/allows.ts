// Allow rules: one per (policy, target, protocol, port) with grants, sources = union of the grants'
// prefixes. Limits are spent in a stable order: living rules and the sources they already carry
// first, then new rules (each with its first source), then the remaining new sources. Whatever
// does not fit is rejected with the limit it would break. Each rule's description states the latest
// expiry among the grants it carries, so `drawbridge sweep` can remove it once lapsed on its own.
import {
  candidatesOf,
  hadSource,
  isPicked,
  isPickedAt,
  pick,
  pickedSources,
  sourceLookup,
  unpick,
} from "./candidates.ts";
import type { Candidate } from "./candidates.ts";
import { allowDescriptions } from "./allow-descriptions.ts";
import type { AllowDescriptions } from "./allow-descriptions.ts";
import { expiryTexts } from "./names.ts";
import type { SecurityRule } from "./nsg.ts";
import { bandFull, conflictMessage, keepable, refund, reject, spend } from "./plan-context.ts";
import type { DenySlot, PlanContext } from "./plan-context.ts";
import { addBaselineDeny, addDeny, denyFloor, newDenyFloorIndex } from "./deny-floor.ts";
import type { DenyFloorIndex } from "./deny-floor.ts";
import { allocateLow } from "./priorities.ts";
import { buildAllowRule, rulePrefixCount } from "./rules.ts";
import { indexOfString } from "./sorting.ts";

/** One plan's memos of description text: expiries (expiryTexts) and allow descriptions. */
interface Texts {
  until: (ms: number) => string;
  describe: AllowDescriptions;
}

/**
 * A conflicted policy: keep its living allow rule at its priority, narrowed to the sources still
 * granted; nothing new. It is rewritten as the binding's rule (its destinations, protocol and port),
 * so a stale or hand-edited living rule never keeps opening more than the grants do.
 */
function frozenAllow(ctx: PlanContext, c: Candidate, texts: Texts): SecurityRule | undefined {
  const message = conflictMessage(ctx, c.slot.b.policyKey);
  const o = c.observed;
  // Another direction or access at this priority is no allow to keep: it goes, its grants wait.
  if (o === undefined || o.direction !== "Inbound" || o.access !== "Allow") {
    reject(ctx, c.grants, "PriorityConflict", message);
    return undefined;
  }
  const had = sourceLookup(o);
  const kept = c.sources.filter((p) => hadSource(had, p));
  reject(
    ctx,
    c.grants.filter((g) => !hadSource(had, g.sourcePrefix)),
    "PriorityConflict",
    message,
  );
  if (kept.length === 0) return undefined;
  let latest = -Infinity;
  for (const grant of c.grants) {
    if (hadSource(had, grant.sourcePrefix)) {
      ctx.placements.push({ grant, ruleName: c.name, priority: o.priority });
      latest = Math.max(latest, grant.expiresAt.getTime());
    }
  }
  const b = c.slot.b;
  const rule = buildAllowRule(
    b,
    c.slot.protocol,
    c.port,
    c.name,
    kept,
    o.priority,
    texts.until(latest),
    texts.describe,
  );
  spend(ctx, 1, rulePrefixCount(rule));
  return rule;
}

/**
 * The deny the candidate's allow must stay below (deny-floor.ts): its own baseline deny, or another
 * deny of the plan that would decide the same traffic first. Undefined while it has no deny.
 */
function floorOf(index: DenyFloorIndex, c: Candidate): SecurityRule | undefined {
  const own = c.slot.rule;
  if (own === undefined) return undefined;
  const other = denyFloor(index, c.slot.b.destinations, c.slot.protocol, c.port);
  return other !== undefined && other.priority < own.priority ? other : own;
}

/** Why no priority was found: the band is full, or another deny leaves no room in front of it. */
function noRoom(ctx: PlanContext, c: Candidate, floor: SecurityRule): string {
  const what = `port ${c.port}/${c.slot.protocol}`;
  if (floor === c.slot.rule) return bandFull(ctx, c.slot.b, what);
  const b = c.slot.b;
  c.failureReason = "PriorityConflict";
  return (
    `the deny rule ${floor.name} at priority ${floor.priority} in NSG ${ctx.nsgName} decides ${what} ` +
    `of ${b.targetName} first, and band ${b.band.from}..${b.band.to} of policy ${b.policyKey} has no free ` +
    `priority below it (an allow behind it would open nothing)`
  );
}

function placeLiving(ctx: PlanContext, c: Candidate, floor: SecurityRule | undefined): void {
  if (floor === undefined || c.observed === undefined) return;
  const p = keepable(ctx, c.observed, c.slot.b, floor.priority);
  if (p === undefined) return;
  c.failure = spend(ctx, 1, c.slot.b.destinations.length);
  if (c.failure !== undefined) return;
  c.priority = p;
  const had = sourceLookup(c.observed);
  for (let i = 0; i < c.sources.length; i++) {
    if (hadSource(had, c.sources[i] ?? "") && spend(ctx, 0, 1) === undefined) pick(c, i);
  }
}

function placeNew(ctx: PlanContext, c: Candidate, floor: SecurityRule | undefined): void {
  if (floor === undefined || c.priority !== undefined || c.failure !== undefined) return;
  const cost = c.slot.b.destinations.length + 1;
  c.failure = spend(ctx, 1, cost);
  if (c.failure !== undefined || c.sources.length === 0) return;
  const p = allocateLow(ctx.alloc, c.slot.b.band, floor.priority);
  if (p === undefined) {
    refund(ctx, 1, cost);
    c.failure = noRoom(ctx, c, floor);
    return;
  }
  c.priority = p;
  pick(c, 0);
}

function addSources(ctx: PlanContext, c: Candidate): void {
  if (c.priority === undefined) return;
  for (let i = 0; i < c.sources.length; i++) {
    if (isPickedAt(c, i)) continue;
    const failure = spend(ctx, 0, 1);
    if (failure === undefined) pick(c, i);
    else c.failure = failure;
  }
}

const MIX_MESSAGE =
  "an Azure rule cannot combine the Internet service tag with address prefixes; request a specific prefix instead";

/**
 * Azure cannot mix the Internet tag with prefixes: unless "*" or "Any" covers it, Internet goes,
 * its grants rejected for that. True when it went.
 */
function dropMixedInternet(ctx: PlanContext, c: Candidate): boolean {
  const i = indexOfString(c.sources, "Internet");
  if (i < 0 || !isPickedAt(c, i) || c.pickedCount <= 1) return false;
  if (isPicked(c, "*") || isPicked(c, "Any")) return false;
  unpick(c, i);
  reject(
    ctx,
    c.grants.filter((g) => g.sourcePrefix === "Internet"),
    "CapacityExceeded",
    MIX_MESSAGE,
  );
  return true;
}

/**
 * Places the grants whose source made it into the rule and rejects the others with `failure` (the
 * limit that kept them out), except Internet ones when dropMixedInternet already rejected those.
 * Returns the latest expiry (epoch ms) among the grants placed.
 */
function placeGrants(
  ctx: PlanContext,
  c: Candidate,
  priority: number,
  failure: string,
  internetDropped: boolean,
): number {
  const ruleName = c.name;
  let latest = -Infinity;
  if (c.pickedCount === c.sources.length) {
    for (const grant of c.grants) {
      ctx.placements.push({ grant, ruleName, priority });
      latest = Math.max(latest, grant.expiresAt.getTime());
    }
    return latest;
  }
  const kept = c.sources.length > 16 ? new Set(pickedSources(c)) : undefined;
  for (const grant of c.grants) {
    const s = grant.sourcePrefix;
    if (kept === undefined ? isPicked(c, s) : kept.has(s)) {
      ctx.placements.push({ grant, ruleName, priority });
      latest = Math.max(latest, grant.expiresAt.getTime());
    } else if (!internetDropped || s !== "Internet") {
      ctx.rejected.push({ grant, reason: "CapacityExceeded", message: failure });
    }
  }
  return latest;
}

/** The rule a candidate becomes, placing or rejecting each of its grants. */
function finish(ctx: PlanContext, c: Candidate, texts: Texts): SecurityRule | undefined {
  const failure = c.failure ?? c.slot.failure ?? "the baseline deny could not be placed";
  if (c.priority === undefined) {
    reject(ctx, c.grants, c.failureReason ?? "CapacityExceeded", failure);
    return undefined;
  }
  // An Internet source not picked for lack of capacity is rejected below like any other source.
  const internetDropped = dropMixedInternet(ctx, c);
  if (c.pickedCount === 0) {
    // (Nothing picked: Internet was not dropped, dropping it leaves another source picked.)
    reject(ctx, c.grants, "CapacityExceeded", failure);
    return undefined;
  }
  // The description states the latest expiry among the grants placed: a pure function of what the
  // rule carries, so a converged NSG stays converged.
  const expiry = texts.until(placeGrants(ctx, c, c.priority, failure, internetDropped));
  // Last use of the candidate: the rule takes over (and sorts) the list of sources.
  const sources = pickedSources(c);
  return buildAllowRule(
    c.slot.b,
    c.slot.protocol,
    c.port,
    c.name,
    sources,
    c.priority,
    expiry,
    texts.describe,
  );
}

/**
 * The plan's denies, indexed: the placed baseline denies (from what they were built of) and the
 * legacy ones kept as they are.
 */
function ownDenies(ctx: PlanContext, slots: DenySlot[]): DenyFloorIndex {
  const index = newDenyFloorIndex();
  for (const s of slots) {
    if (s.rule !== undefined) addBaselineDeny(index, s.rule, s.protocol, s.ports, s.b.destinations);
  }
  for (const i of ctx.kept) {
    const r = ctx.living.rules[i];
    if (r?.access === "Deny" && r.direction === "Inbound") addDeny(index, r);
  }
  return index;
}

/**
 * The desired allow rules of the NSG, pushed onto `rules`, with the index of the observed rule of
 * each one's name (or -1) pushed onto `living`.
 */
export function placeAllows(
  ctx: PlanContext,
  slots: DenySlot[],
  rules: SecurityRule[],
  living: number[],
): void {
  const all = candidatesOf(ctx, slots);
  const texts: Texts = { until: expiryTexts(), describe: allowDescriptions() };
  const open: Candidate[] = [];
  for (const c of all) {
    if (!ctx.frozen.has(c.slot.b.policyKey)) {
      open.push(c);
      continue;
    }
    const rule = frozenAllow(ctx, c, texts);
    if (rule !== undefined) {
      rules.push(rule);
      living.push(c.living);
    }
  }
  const index = ownDenies(ctx, slots);
  const floors = open.map((c) => floorOf(index, c));
  open.forEach((c, i) => {
    placeLiving(ctx, c, floors[i]);
  });
  open.forEach((c, i) => {
    placeNew(ctx, c, floors[i]);
  });
  for (const c of open) addSources(ctx, c);
  for (const c of open) {
    const rule = finish(ctx, c, texts);
    if (rule !== undefined) {
      rules.push(rule);
      living.push(c.living);
    }
  }
}
