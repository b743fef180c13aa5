// The upgrade from the 8-digit hash (ADR 0011): legacy-format rules are own and go as stale once the
// plan no longer needs them, after the puts of their replacements (allows first, denies last; the
// Azure adapter applies puts, then deletes). A legacy baseline deny whose binding still lists its
// protocol but whose new deny could not be placed yet (band full, limits, a conflict) is kept as it
// is, so that a port is never more open than before the upgrade; the legacy allows around it go,
// which frees their priorities for the new deny on the next reconcile.
import type { Protocol } from "../api/types.ts";
import type { NormBinding } from "./bindings.ts";
import { legacyRulePrefix } from "./legacy-names.ts";
import type { DenySlot, PlanContext } from "./plan-context.ts";
import { spend } from "./plan-context.ts";
import { rulePrefixCount } from "./rules.ts";

const TOKENS: Record<string, Protocol> = { tcp: "TCP", udp: "UDP", any: "Any" };
const DENY_TAIL = "deny-tcp".length;

/** Keeps the legacy denies that still guard a port whose new deny is not placed (see above). */
export function keepLegacyDenies(
  ctx: PlanContext,
  bindings: NormBinding[],
  slots: DenySlot[],
  instance: string,
): void {
  if (ctx.legacy.length === 0) return;
  const byPrefix = new Map<string, NormBinding>();
  for (const b of bindings) byPrefix.set(legacyRulePrefix(b.policyKey, b.lowerTargetId, instance), b);
  const placed = new Set<string>();
  for (const s of slots) if (s.rule !== undefined) placed.add(`${s.b.rulePrefix}\n${s.protocol}`);
  for (const first of ctx.legacy) {
    const i = ctx.living.lastOf[first] ?? -1;
    const r = ctx.living.rules[i];
    if (r === undefined || r.access !== "Deny" || r.direction !== "Inbound") continue;
    const lower = r.name.toLowerCase();
    const protocol = TOKENS[lower.slice(-3)];
    if (protocol === undefined || !lower.slice(-DENY_TAIL).startsWith("deny-")) continue;
    const b = byPrefix.get(lower.slice(0, -DENY_TAIL));
    if (b === undefined || !b.protocols.some((entry) => entry[0] === protocol)) continue;
    if (placed.has(`${b.rulePrefix}\n${protocol}`)) continue;
    ctx.kept.push(i);
    spend(ctx, 1, rulePrefixCount(r));
  }
}
