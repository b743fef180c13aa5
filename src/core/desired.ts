// The managed rules one NSG must hold (docs/api.md): per (policy, target, protocol) a baseline deny at
// the high end of the band; per (policy, target, protocol, port) an allow from the low end carrying
// the union of the active grants' sources. Living rules keep their priority; Azure's limits are
// enforced and whatever does not fit is rejected, never dropped silently, never widened.
import { placeAllows } from "./allows.ts";
import type { Protocol } from "../api/types.ts";
import { indexGrants, normalizeBindings, slotKey } from "./bindings.ts";
import type { NormBinding } from "./bindings.ts";
import { findConflicts } from "./conflicts.ts";
import { placeDenies } from "./denies.ts";
import { shortTargetName } from "./names.ts";
import { ownGrammar } from "./rule-grammar.ts";
import { holdClashes } from "./name-clashes.ts";
import { keepLegacyDenies } from "./legacy-denies.ts";
import type { SecurityRule } from "./nsg.ts";
import { newPlanContext } from "./plan-context.ts";
import type { DenySlot, PlanContext } from "./plan-context.ts";
import { ruleAt } from "./living.ts";
import { buildDenyRule } from "./rules.ts";
import { shadowedBaselines } from "./shadow.ts";
import { sortedByPriority } from "./sorting.ts";
import type {
  Grant,
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

const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "Any"];

/** True when the binding's port table lists `port` for `protocol`. */
function lists(b: NormBinding, protocol: Protocol, port: number): boolean {
  for (const entry of b.protocols) if (entry[0] === protocol && entry[1].includes(port)) return true;
  return false;
}

/** The protocol a grant key of a narrowed grant names (TCP or UDP under a port listed as Any only). */
function narrowedProtocol(b: NormBinding, key: number): Protocol | undefined {
  // slotKey is port * 4 + protocol index; NaN (an unknown protocol) names no protocol.
  if (!Number.isInteger(key) || key < 0) return undefined;
  const index = key % 4;
  const protocol = PROTOCOLS[index];
  const port = (key - index) / 4;
  if (protocol === undefined || protocol === "Any" || lists(b, protocol, port)) return undefined;
  return lists(b, "Any", port) ? protocol : undefined;
}

/**
 * Grants of a protocol narrower than the policy's now (a request approved for TCP before the port
 * became Any keeps TCP: see grants.ts) get that protocol's slot: its allow carries only what was
 * approved, and its deny only narrows. A grant of a port or protocol the policy does not cover at
 * all still finds no slot and opens nothing. Slots of the binding start at `first`; a new slot goes
 * to `late`, placed after every slot the policies list, so that a deny which exists only for such
 * grants never takes the priority of one the policies need; each slot given such ports is recorded
 * in `extra` with them (trimNarrowed takes back the ones no placed grant uses).
 */
function addNarrowedSlots(
  b: NormBinding,
  grants: Map<number, unknown>,
  slots: DenySlot[],
  first: number,
  late: DenySlot[],
  extra: Map<DenySlot, number[]>,
): void {
  let narrowed: Map<Protocol, number[]> | undefined;
  for (const key of grants.keys()) {
    const protocol = narrowedProtocol(b, key);
    if (protocol === undefined) continue;
    narrowed ??= new Map();
    const port = (key - (key % 4)) / 4;
    const ports = narrowed.get(protocol);
    if (ports === undefined) narrowed.set(protocol, [port]);
    else ports.push(port);
  }
  if (narrowed === undefined) return;
  for (const [protocol, ports] of narrowed) {
    let slot: DenySlot | undefined;
    for (let i = first; i < slots.length; i++) if (slots[i]?.protocol === protocol) slot = slots[i];
    // The binding's port tables are shared and never mutated: the slot takes a new list.
    const all = slot === undefined ? ports.slice() : [...slot.ports, ...ports];
    all.sort((x, y) => x - y);
    if (slot === undefined) {
      slot = { b, protocol, ports: all, living: -1 };
      late.push(slot);
    } else slot.ports = all;
    extra.set(slot, ports);
  }
}

/**
 * Takes back the narrowed ports (addNarrowedSlots) whose grants were all rejected: the deny covers
 * only ports the policy lists for its protocol or a placed grant uses, and goes when none is left,
 * so the next plan (without the rejected grants) wants the very same rules.
 */
function trimNarrowed(ctx: PlanContext, extra: Map<DenySlot, number[]>, placed: Placed): void {
  if (extra.size === 0) return;
  const granted = new Set<Grant>();
  for (const p of ctx.placements) granted.add(p.grant);
  for (const [s, ports] of extra) {
    const rule = s.rule;
    if (rule === undefined) continue;
    const unused = ports.filter(
      (port) => !(s.b.grants?.get(slotKey(s.protocol, port)) ?? []).some((g) => granted.has(g)),
    );
    if (unused.length === 0) continue;
    const k = placed.rules.indexOf(rule);
    s.ports = s.ports.filter((port) => !unused.includes(port));
    if (s.ports.length === 0) {
      s.rule = undefined;
      placed.rules.splice(k, 1);
      placed.living.splice(k, 1);
    } else {
      s.rule = buildDenyRule(s.b, s.protocol, s.ports, rule.priority, ruleAt(ctx.living, s.living));
      placed.rules[k] = s.rule;
    }
  }
}

/** The desired state and the plan context it was computed in (planNsg reuses its index of observed rules). */
export function planDesired(input: PlanInput): { state: DesiredState; ctx: PlanContext; placed: Placed } {
  const instance = input.instance ?? "";
  const ctx = newPlanContext(input.nsg, shortTargetName(input.nsg.id), ownGrammar(instance));
  const table = normalizeBindings(input.bindings, instance, input.memo);
  ctx.frozen = findConflicts(table.list, ctx.foreignInbound, ctx.nsgName);
  // Grants first: a grant approved for TCP under a port the policy now lists as Any needs a slot of
  // its own protocol (see addNarrowedSlots).
  indexGrants(table, input.grants);
  // Bindings whose rule names collide write nothing (name-clashes.ts).
  const bindings = holdClashes(ctx, table.list);
  const slots: DenySlot[] = [];
  const extra = new Map<DenySlot, number[]>();
  const late: DenySlot[] = [];
  for (const b of bindings) {
    const first = slots.length;
    // Indexed, not destructured: destructuring a tuple allocates an iterator per entry.
    for (const entry of b.protocols) slots.push({ b, protocol: entry[0], ports: entry[1], living: -1 });
    if (b.grants !== undefined) addNarrowedSlots(b, b.grants, slots, first, late, extra);
  }
  for (const s of late) slots.push(s);
  placeDenies(ctx, slots);
  keepLegacyDenies(ctx, table.list, slots, instance);
  const placed: Placed = { rules: [], living: [] };
  for (const s of slots) {
    if (s.rule === undefined) continue;
    placed.rules.push(s.rule);
    placed.living.push(s.living);
  }
  placeAllows(ctx, slots, placed.rules, placed.living);
  trimNarrowed(ctx, extra, placed);
  const all = placed.rules.slice();
  for (const i of ctx.kept) {
    const r = ctx.living.rules[i];
    if (r !== undefined) all.push(r);
  }
  const desired = sortedByPriority(all);
  const conflicts: PriorityConflict[] = [];
  for (const list of ctx.frozen.values()) for (const c of list) conflicts.push(c);
  const state: DesiredState = {
    desired,
    conflicts,
    shadowed: shadowedBaselines(slots, ctx.foreignInbound),
    rejected: ctx.rejected,
    placements: ctx.placements,
    denies: slots,
  };
  return { state, ctx, placed };
}

export function desiredRules(input: PlanInput): DesiredState {
  return planDesired(input).state;
}
