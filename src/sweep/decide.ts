// Which rules of an NSG the sweep removes: pure, so the decision is tested without ARM. Only an
// Inbound Allow rule of the sweeping instance (by name) whose description states, in drawbridge's own
// format, an expiry older than now minus the grace. Everything else stays: foreign rules, other
// instances' rules, every deny (removing a baseline deny could open a port), and any rule whose
// expiry cannot be read (when in doubt, leave it to the operator and count it).
import { allowDescriptionExpiry } from "../core/names.ts";
import { isOwnRule } from "../core/rule-grammar.ts";
import type { ObservedNsg, SecurityRule } from "../core/nsg.ts";

export type SweepVerdict =
  /** Not the sweep's business: foreign, another instance's, a deny, or Outbound. */
  | { kind: "skip" }
  /** An own allow rule without a readable expiry: left alone, counted. */
  | { kind: "unreadable" }
  | { kind: "live"; expiresAt: Date }
  | { kind: "lapsed"; expiresAt: Date };

export function sweepVerdict(
  rule: SecurityRule,
  instance: string,
  nowMs: number,
  graceMs: number,
): SweepVerdict {
  if (!isOwnRule(rule, instance) || rule.direction !== "Inbound" || rule.access !== "Allow") {
    return { kind: "skip" };
  }
  const expiresAt = allowDescriptionExpiry(rule.description, instance);
  if (expiresAt === undefined) return { kind: "unreadable" };
  return expiresAt.getTime() + graceMs < nowMs ? { kind: "lapsed", expiresAt } : { kind: "live", expiresAt };
}

export interface NsgSweep {
  /** Own Inbound Allow rules looked at. */
  scanned: number;
  lapsed: { rule: SecurityRule; expiresAt: Date }[];
  /** Names of own allow rules without a readable expiry. */
  unreadable: string[];
}

export function sweepNsg(nsg: ObservedNsg, instance: string, nowMs: number, graceMs: number): NsgSweep {
  const out: NsgSweep = { scanned: 0, lapsed: [], unreadable: [] };
  for (const rule of nsg.securityRules) {
    const v = sweepVerdict(rule, instance, nowMs, graceMs);
    if (v.kind === "skip") continue;
    out.scanned++;
    if (v.kind === "lapsed") out.lapsed.push({ rule, expiresAt: v.expiresAt });
    else if (v.kind === "unreadable") out.unreadable.push(rule.name);
  }
  return out;
}
