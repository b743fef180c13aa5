// Allow-rule candidates: one per (policy, target, protocol, port) that has grants, with the grants'
// distinct sources and the living rule of that name, if any. Which sources a candidate keeps is a
// flag per source rather than a set, since almost every candidate keeps all of them.
import { slotKey } from "./bindings.ts";
import { allowNameStem } from "./names.ts";
import type { SecurityRule } from "./nsg.ts";
import type { DenySlot, PlanContext } from "./plan-context.ts";
import type { Grant } from "./types.ts";

export interface Candidate {
  slot: DenySlot;
  port: number;
  name: string;
  grants: Grant[];
  /** Distinct grant sources in grant order. */
  sources: string[];
  /** picked[i]: sources[i] goes into the rule. */
  picked: boolean[];
  pickedCount: number;
  observed: SecurityRule | undefined;
  priority: number | undefined;
  failure: string | undefined;
}

/** Up to this many entries, a linear scan beats building a Set. */
const SMALL = 16;

function distinctSources(grants: Grant[]): string[] {
  const out: string[] = [];
  if (grants.length <= SMALL) {
    for (const g of grants) if (!out.includes(g.sourcePrefix)) out.push(g.sourcePrefix);
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

export function candidatesOf(
  ctx: PlanContext,
  slots: DenySlot[],
  index: Map<string, Map<number, Grant[]>>,
): Candidate[] {
  const out: Candidate[] = [];
  for (const slot of slots) {
    const bySlot = index.get(slot.b.key);
    if (bySlot === undefined) continue;
    const stem = allowNameStem(slot.b.rulePrefix, slot.protocol);
    for (const port of slot.ports) {
      const grants = bySlot.get(slotKey(slot.protocol, port));
      if (grants === undefined || grants.length === 0) continue;
      const name = `${stem}${port}`;
      const sources = distinctSources(grants);
      out.push({
        slot,
        port,
        name,
        grants,
        sources,
        picked: new Array<boolean>(sources.length).fill(false),
        pickedCount: 0,
        observed: ctx.managed.get(name),
        priority: undefined,
        failure: undefined,
      });
    }
  }
  return out;
}

export function pick(c: Candidate, i: number): void {
  if (c.picked[i] === true) return;
  c.picked[i] = true;
  c.pickedCount++;
}

export function unpick(c: Candidate, i: number): void {
  if (c.picked[i] !== true) return;
  c.picked[i] = false;
  c.pickedCount--;
}

/** True when `source` is one of the candidate's sources and picked. */
export function isPicked(c: Candidate, source: string): boolean {
  const i = c.sources.indexOf(source);
  return i >= 0 && c.picked[i] === true;
}

/** The picked sources, in source order. */
export function pickedSources(c: Candidate): string[] {
  const out: string[] = [];
  for (let i = 0; i < c.sources.length; i++) if (c.picked[i] === true) out.push(c.sources[i] ?? "");
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
    (l.rule.sourceAddressPrefixes?.includes(source) ?? false)
  );
}
