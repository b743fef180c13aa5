// What an NSG reconcile records of the grants it placed: per request key the rules that carry it
// and the expiresAt of the grant they were planned with (NsgRecord.placements). Every request an
// allow rule carries is placed by the same rule: the ledger keeps one frozen rule object and one
// one-rule list per rule, and one placement per rule and expiry, shared by those requests, instead
// of an object, an array (with room for 17 entries, as push leaves it) and a map entry per request.
import type { GrantRuleStatus } from "../../api/types.ts";
import type { NsgRecord, Placement } from "../state/ledger.ts";
import type { ApplyResult } from "./apply.ts";

/** The written placements per request key, each with the expiresAt of the grant it was planned with. */
export function placementsOf(nsgId: string, result: ApplyResult): Pick<NsgRecord, "placements"> {
  const rules = new Map<string, GrantRuleStatus>();
  const lists = new Map<string, { rules: GrantRuleStatus[]; expiresAt: number }>();
  for (const p of result.plan.placements) {
    if (result.refused.has(p.ruleName)) continue;
    const { port, protocol } = p.grant;
    const ruleKey = `${p.ruleName}\n${String(p.priority)}\n${String(port)}\n${protocol}`;
    let rule = rules.get(ruleKey);
    if (rule === undefined) {
      rule = Object.freeze({
        networkSecurityGroupId: nsgId,
        ruleName: p.ruleName,
        priority: p.priority,
        port,
        protocol,
      });
      rules.set(ruleKey, rule);
    }
    const expiresAt = p.grant.expiresAt.getTime();
    const list = lists.get(p.grant.requestKey);
    if (list === undefined) lists.set(p.grant.requestKey, { rules: [rule], expiresAt });
    else {
      list.rules.push(rule);
      list.expiresAt = expiresAt;
    }
  }
  const shared = new Map<
    GrantRuleStatus,
    { rules: readonly GrantRuleStatus[]; byExpiry: Map<number, Placement> }
  >();
  const placements = new Map<string, Placement>();
  for (const [key, { rules: list, expiresAt }] of lists) {
    const only = list.length === 1 ? list[0] : undefined;
    if (only === undefined) {
      placements.set(key, Object.freeze({ rules: Object.freeze(list.slice()), expiresAt }));
      continue;
    }
    let one = shared.get(only);
    if (one === undefined) shared.set(only, (one = { rules: Object.freeze([only]), byExpiry: new Map() }));
    let placement = one.byExpiry.get(expiresAt);
    if (placement === undefined) {
      placement = Object.freeze({ rules: one.rules, expiresAt });
      one.byExpiry.set(expiresAt, placement);
    }
    placements.set(key, placement);
  }
  return { placements };
}
