// The source-union bound of an undecided request, read from the grant index's per-rule unions (kept
// as grants come and go) instead of parsing and sorting every peer's prefix per decision. Counts the
// same grants as sourceUnionIssue over the policy's active grants and the approvals in flight: every
// active grant and every approval in flight once, the request's own left out.
import type { AccessRequest, JitPolicy } from "../../api/types.ts";
import { unionAddressCount } from "../../core/cidr.ts";
import { objectKey } from "../../core/keys.ts";
import { ruleKey, sourceUnionIssueWith } from "../../core/source-union.ts";
import type { Grant, Issue } from "../../core/types.ts";
import type { GrantIndex } from "../state/grant-index.ts";

function keyOf(g: Grant): string {
  return ruleKey(g.targetId, g.port, g.protocol);
}

export function sourceUnionOf(
  request: AccessRequest,
  policy: JitPolicy,
  policyKey: string,
  index: GrantIndex,
  /** The grants of each approval in flight, one list per request. */
  inFlight: Iterable<readonly Grant[]>,
  now: Date,
): Issue | undefined {
  const own = objectKey(request.metadata);
  const view = index.rulesOf(policyKey, now);
  // Approvals in flight the index does not hold yet (those it holds are in its unions already).
  const extra = new Map<string, string[]>();
  for (const grants of inFlight) {
    const first = grants[0];
    if (first === undefined || first.policyKey !== policyKey || first.requestKey === own) continue;
    if (view.holds(first.requestKey)) continue;
    for (const g of grants) {
      const list = extra.get(keyOf(g));
      if (list === undefined) extra.set(keyOf(g), [g.sourcePrefix]);
      else list.push(g.sourcePrefix);
    }
  }
  // The request's own grants, held when its approval is in flight: those rules are counted without them.
  const mine = new Set(view.holds(own) ? index.forRequest(own, now).map(keyOf) : []);
  return sourceUnionIssueWith(request, policy, (rule, added, family) => {
    const key = ruleKey(rule.targetId, rule.port, rule.protocol);
    const more = [...(extra.get(key) ?? []), added];
    if (mine.has(key)) {
      const peers = view.grants.filter((g) => g.requestKey !== own && keyOf(g) === key);
      return unionAddressCount([...peers.map((g) => g.sourcePrefix), ...more], family);
    }
    return view.rules.get(key)?.totalWith(more, family) ?? unionAddressCount(more, family);
  });
}
