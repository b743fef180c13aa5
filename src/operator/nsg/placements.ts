// What an NSG reconcile records of the grants it placed: per request key the rules that carry it,
// and the expiresAt of the grant each was planned with (NsgRecord.placements, placedExpiry). Every
// request an allow rule carries is placed by the same rule: the ledger keeps one frozen rule object
// and one one-rule list per rule, shared by those requests, instead of an object and an array (with
// room for 17 entries, as push leaves it) per request.
import type { GrantRuleStatus } from "../../api/types.ts";
import type { NsgRecord } from "../state/ledger.ts";
import type { ApplyResult } from "./apply.ts";

/** The written placements per request key, and the expiresAt of the grant each was planned with. */
export function placementsOf(
  nsgId: string,
  result: ApplyResult,
): Pick<NsgRecord, "placements" | "placedExpiry"> {
  const rules = new Map<string, GrantRuleStatus>();
  const lists = new Map<string, GrantRuleStatus[]>();
  const placedExpiry = new Map<string, number>();
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
    const list = lists.get(p.grant.requestKey);
    if (list === undefined) lists.set(p.grant.requestKey, [rule]);
    else list.push(rule);
    placedExpiry.set(p.grant.requestKey, p.grant.expiresAt.getTime());
  }
  const single = new Map<GrantRuleStatus, GrantRuleStatus[]>();
  const placements = new Map<string, GrantRuleStatus[]>();
  for (const [key, list] of lists) {
    const only = list.length === 1 ? list[0] : undefined;
    if (only === undefined) {
      placements.set(key, list.slice());
      continue;
    }
    let shared = single.get(only);
    if (shared === undefined) single.set(only, (shared = Object.freeze([only]) as GrantRuleStatus[]));
    placements.set(key, shared);
  }
  return { placements, placedExpiry };
}
