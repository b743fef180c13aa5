// Allow-rule candidates: one per (policy, target, protocol, port) that has grants, with the grants'
// distinct sources and the living rule of that name, if any. Which sources a candidate keeps is a
// count while it keeps a leading run of them (almost always: all of them), flags per source after.
import { slotKey } from "./bindings.ts";
import { allowNameStem } from "./names.ts";
import type { SecurityRule } from "./nsg.ts";
import { livingAllow, ruleAt } from "./living.ts";
import type { DenySlot, PlanContext } from "./plan-context.ts";
import { indexOfString } from "./sorting.ts";
import type { Grant, RejectionReason } from "./types.ts";

export interface Candidate {
  slot: DenySlot;
  port: number;
  name: string;
  grants: Grant[];
  /** Distinct grant sources in grant order. */
  sources: string[];
  /** picked[i]: sources[i] goes into the rule; undefined while exactly the first pickedCount do. */
  picked: boolean[] | undefined;
  pickedCount: number;
  observed: SecurityRule | undefined;
  /** Index of `observed` among the observed managed rules, or -1. */
  living: number;
  priority: number | undefined;
  failure: string | undefined;
  /** The reason grants are rejected with when `failure` keeps the rule out (else CapacityExceeded). */
  failureReason?: RejectionReason;
}

/** Up to this many entries, a linear scan beats building a Set. */
const SMALL = 16;

/** True when no two of a few grants share a source (checked without allocating). */
function fewAndDistinct(grants: Grant[]): boolean {
  if (grants.length > SMALL) return false;
  for (let i = 1; i < grants.length; i++) {
    const s = grants[i]?.sourcePrefix;
    for (let j = 0; j < i; j++) if (grants[j]?.sourcePrefix === s) return false;
  }
  return true;
}

function distinctSources(grants: Grant[]): string[] {
  // The common case (one request per source) gets an exactly sized list.
  if (fewAndDistinct(grants)) return grants.map((g) => g.sourcePrefix);
  const out: string[] = [];
  if (grants.length <= SMALL) {
    for (const g of grants) if (indexOfString(out, g.sourcePrefix) < 0) out.push(g.sourcePrefix);
    return out;
  }
  const seen = new Set<string>();
  for (const g of grants) {
    if (!seen.has(g.sourcePrefix)) {
      seen.add(g.sourcePrefix);
      out.push(g.sourcePrefix);
    }
  }
  return out;
}

export function candidatesOf(ctx: PlanContext, slots: DenySlot[]): Candidate[] {
  const out: Candidate[] = [];
  for (const slot of slots) {
    const bySlot = slot.b.grants;
    if (bySlot === undefined) continue;
    let stem: string | undefined;
    for (const port of slot.ports) {
      const grants = bySlot.get(slotKey(slot.protocol, port));
      if (grants === undefined || grants.length === 0) continue;
      const living = livingAllow(ctx.living, slot.b, slot.protocol, port);
      const observed = ruleAt(ctx.living, living);
      out.push({
        slot,
        port,
        // The living rule's own string when there is one (the same text): comparisons are then by identity.
        // A new name is joined flat: the NSG ledger keeps it as long as the rule stands, and one
        // built with `+` is a tree of four strings (~190 bytes instead of ~70).
        name:
          observed === undefined
            ? [(stem ??= allowNameStem(slot.b.rulePrefix, slot.protocol)), String(port)].join("")
            : observed.name,
        grants,
        sources: distinctSources(grants),
        picked: undefined,
        pickedCount: 0,
        observed,
        living,
        priority: undefined,
        failure: undefined,
      });
    }
  }
  return out;
}

export function isPickedAt(c: Candidate, i: number): boolean {
  return c.picked === undefined ? i < c.pickedCount : c.picked[i] === true;
}

function flags(c: Candidate): boolean[] {
  if (c.picked === undefined) c.picked = c.sources.map((_, j) => j < c.pickedCount);
  return c.picked;
}

export function pick(c: Candidate, i: number): void {
  if (isPickedAt(c, i)) return;
  if (c.picked === undefined && i === c.pickedCount) c.pickedCount++;
  else {
    flags(c)[i] = true;
    c.pickedCount++;
  }
}

export function unpick(c: Candidate, i: number): void {
  if (!isPickedAt(c, i)) return;
  flags(c)[i] = false;
  c.pickedCount--;
}

/** True when `source` is one of the candidate's sources and picked. */
export function isPicked(c: Candidate, source: string): boolean {
  const i = indexOfString(c.sources, source);
  return i >= 0 && isPickedAt(c, i);
}

/** The picked sources in source order: the candidate's own list when it keeps them all. */
export function pickedSources(c: Candidate): string[] {
  if (c.pickedCount === c.sources.length) return c.sources;
  const out: string[] = [];
  for (let i = 0; i < c.sources.length; i++) if (isPickedAt(c, i)) out.push(c.sources[i] ?? "");
  return out;
}

/**
 * Membership in a living rule's sources (as ruleSources lists them) without copying them; `many` is
 * those sources as a Set when the rule lists more than a linear scan should walk.
 */
export interface SourceLookup {
  rule: SecurityRule;
  many: Set<string> | undefined;
}

export function sourceLookup(rule: SecurityRule): SourceLookup {
  const list = rule.sourceAddressPrefixes;
  if (list === undefined || list.length <= SMALL) return { rule, many: undefined };
  const many = new Set(list);
  const one = rule.sourceAddressPrefix;
  if (one !== undefined && one !== "") many.add(one);
  return { rule, many };
}

export function hadSource(l: SourceLookup, source: string): boolean {
  if (l.many !== undefined) return l.many.has(source);
  return (
    (source !== "" && l.rule.sourceAddressPrefix === source) ||
    indexOfString(l.rule.sourceAddressPrefixes ?? [], source) >= 0
  );
}
