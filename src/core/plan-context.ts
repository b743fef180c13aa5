// Shared state of one NSG plan: the observed rules split into the plan's instance's own and foreign
// (every other rule, other drawbridge instances' included), the priority allocator, what is left of
// Azure's per-NSG limits, and the grants rejected or placed so far.
import type { Protocol } from "../api/types.ts";
import type { NormBinding } from "./bindings.ts";
import { addPriority, hasPriority, inBand, newAllocator, newPrioritySet } from "./priorities.ts";
import type { PriorityAllocator, PrioritySet } from "./priorities.ts";
import { AZURE_LIMITS } from "./nsg.ts";
import { LEGACY_NAME, NOT_OWN, nameReader, readOwnName } from "./rule-grammar.ts";
import type { NameParts, OwnGrammar } from "./rule-grammar.ts";
import type { ObservedNsg, SecurityRule } from "./nsg.ts";
import { rulePrefixCount } from "./rules.ts";
import { livingIndexFrom } from "./living.ts";
import type { LivingIndex } from "./living.ts";
import type { Grant, GrantPlacement, PriorityConflict, RejectedGrant } from "./types.ts";

export interface PlanContext {
  nsgName: string;
  /** Observed own rules in observed order, indexed by the binding and slot their names encode. */
  living: LivingIndex;
  /** Indexes (into living.rules) of own rules named in the legacy format (8-digit hash). */
  legacy: number[];
  /** Indexes (into living.rules) of own rules kept exactly as observed: legacy denies whose
   * replacement could not be placed yet, rules of bindings whose names collide. */
  kept: number[];
  /** Observed foreign rules (not the instance's own) in observed order. */
  foreign: SecurityRule[];
  /** Foreign Inbound rules sorted by priority. */
  foreignInbound: SecurityRule[];
  foreignInboundPriorities: PrioritySet;
  /** Priorities claimed by living managed rules that keep them in this plan. */
  claimed: PrioritySet;
  alloc: PriorityAllocator;
  budget: { rules: number; prefixes: number };
  /** Conflicted policies, by key. */
  frozen: Map<string, PriorityConflict[]>;
  rejected: RejectedGrant[];
  placements: GrantPlacement[];
}

/** Per (policy, target, protocol): the baseline deny, or why it could not be placed. */
export interface DenySlot {
  b: NormBinding;
  protocol: Protocol;
  ports: number[];
  rule?: SecurityRule;
  failure?: string;
  /** Index of the observed rule of the deny's name (livingDeny), or -1. */
  living: number;
}

/**
 * `grammar`: the plan's instance's own names (rule-grammar.ts); every rule named otherwise is foreign
 * to it, whatever its prefix.
 */
export function newPlanContext(nsg: ObservedNsg, nsgName: string, grammar: OwnGrammar): PlanContext {
  const legacy: number[] = [];
  const managedRules: SecurityRule[] = [];
  const foreign: SecurityRule[] = [];
  const foreignInbound: SecurityRule[] = [];
  // Every observed Inbound priority is taken for new rules (see priorities.ts).
  const alloc = newAllocator([]);
  const foreignInboundPriorities = newPrioritySet();
  const budget = { rules: AZURE_LIMITS.rulesPerNsg, prefixes: AZURE_LIMITS.prefixesPerNsg };
  // Each name is read once: its format, and for an own rule what the living index files it by.
  const n = nsg.securityRules.length;
  const parts: NameParts = {
    keys: new Int32Array(n),
    prefixLengths: new Int32Array(n),
    hashes: new Int32Array(n),
    heads: new Int32Array(n),
  };
  const reader = nameReader(grammar, parts);
  for (const r of nsg.securityRules) {
    if (r.direction === "Inbound") addPriority(alloc.taken, r.priority);
    const format = readOwnName(r.name, reader, managedRules.length);
    if (format !== NOT_OWN) {
      if (format === LEGACY_NAME) legacy.push(managedRules.length);
      managedRules.push(r);
      continue;
    }
    foreign.push(r);
    budget.rules -= 1;
    budget.prefixes -= rulePrefixCount(r);
    if (r.direction === "Inbound") {
      foreignInbound.push(r);
      addPriority(foreignInboundPriorities, r.priority);
    }
  }
  foreignInbound.sort((a, b) => a.priority - b.priority);
  return {
    nsgName,
    living: livingIndexFrom(managedRules, {
      keys: parts.keys.subarray(0, managedRules.length),
      prefixLengths: parts.prefixLengths.subarray(0, managedRules.length),
      hashes: parts.hashes.subarray(0, managedRules.length),
      heads: parts.heads?.subarray(0, managedRules.length),
    }),
    legacy,
    kept: [],
    foreign,
    foreignInbound,
    foreignInboundPriorities,
    claimed: newPrioritySet(),
    alloc,
    budget,
    frozen: new Map(),
    rejected: [],
    placements: [],
  };
}

export function withoutReadOnly(rule: SecurityRule): SecurityRule {
  const { etag: _etag, provisioningState: _state, ...rest } = rule;
  return rest;
}

/** Takes rules and prefixes from what is left of the NSG's limits, or says which limit would break. */
export function spend(ctx: PlanContext, rules: number, prefixes: number): string | undefined {
  if (ctx.budget.rules < rules) {
    return `NSG ${ctx.nsgName} would exceed Azure's limit of ${AZURE_LIMITS.rulesPerNsg} security rules`;
  }
  if (ctx.budget.prefixes < prefixes) {
    return `NSG ${ctx.nsgName} would exceed Azure's limit of ${AZURE_LIMITS.prefixesPerNsg} address prefixes`;
  }
  ctx.budget.rules -= rules;
  ctx.budget.prefixes -= prefixes;
  return undefined;
}

export function refund(ctx: PlanContext, rules: number, prefixes: number): void {
  ctx.budget.rules += rules;
  ctx.budget.prefixes += prefixes;
}

export function bandFull(ctx: PlanContext, b: NormBinding, what: string): string {
  return (
    `no free priority left in band ${b.band.from}..${b.band.to} of policy ${b.policyKey} in NSG ` +
    `${ctx.nsgName} for ${what} (band exhausted)`
  );
}

/**
 * The priority of `o`, the living managed rule of the name a new rule would take, when it may keep it
 * (Inbound, in band, below `below`, unique).
 */
export function keepable(
  ctx: PlanContext,
  o: SecurityRule | undefined,
  b: NormBinding,
  below: number,
): number | undefined {
  if (o?.direction !== "Inbound" || !inBand(o.priority, b.band) || o.priority >= below) return undefined;
  if (hasPriority(ctx.claimed, o.priority) || hasPriority(ctx.foreignInboundPriorities, o.priority)) {
    return undefined;
  }
  addPriority(ctx.claimed, o.priority);
  return o.priority;
}

export function reject(
  ctx: PlanContext,
  grants: Grant[],
  reason: RejectedGrant["reason"],
  message: string,
): void {
  for (const grant of grants) ctx.rejected.push({ grant, reason, message });
}

export function conflictMessage(ctx: PlanContext, policyKey: string): string {
  return (
    ctx.frozen.get(policyKey)?.[0]?.message ??
    `policy ${policyKey} has a priority conflict in NSG ${ctx.nsgName}`
  );
}
