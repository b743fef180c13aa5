// The bound on what one allow rule carries: the union of the sources of the active grants of one
// (policy, target, protocol, port). Many narrow grants add up; the one that would cross the bound is
// denied by name when it is approved, rather than dropped silently later.
import type { AccessRequest, JitPolicy, PolicyPort } from "../api/types.ts";
import { issue } from "./checks.ts";
import { objectKey } from "./keys.ts";
import { isWildcardPrefix, parsePrefix, prefixAddressCount, unionAddressCount } from "./cidr.ts";
import type { IpFamily } from "./cidr.ts";
import { SOURCE_FIELD, familyKey, sourceLimits } from "./source-limits.ts";
import type { Grant, Issue } from "./types.ts";
import { effectivePolicySpec } from "./validate-policy.ts";

function lastSegment(id: string): string {
  return id.slice(id.lastIndexOf("/") + 1);
}

/** The key a rule's sources are filed under (target ids compare without letter case). */
export function ruleKey(targetId: string, port: number, protocol: string): string {
  return `${targetId.toLowerCase()}\n${port}\n${protocol}`;
}

/** The sources each rule of the policy carries now, by ruleKey, leaving one request's own out. */
function carriedByRule(
  peers: readonly Grant[],
  policyKey: string,
  requestKey: string,
): Map<string, string[]> {
  const carried = new Map<string, string[]>();
  for (const g of peers) {
    if (g.policyKey !== policyKey || g.requestKey === requestKey) continue;
    const key = ruleKey(g.targetId, g.port, g.protocol);
    const list = carried.get(key);
    if (list === undefined) carried.set(key, [g.sourcePrefix]);
    else list.push(g.sourcePrefix);
  }
  return carried;
}

/** The policy's target ids (as the policy writes them) that the request opens. */
function requestedTargets(request: AccessRequest, policy: JitPolicy): string[] {
  const all = effectivePolicySpec(policy.spec).targets.map(
    (t) => t.virtualMachineId ?? t.networkSecurityGroupId ?? "",
  );
  const named = request.spec.targets;
  if (named === undefined) return all;
  const wanted = new Set(named.map((t) => t.toLowerCase()));
  return all.filter((t) => wanted.has(t.toLowerCase()));
}

interface Crossing {
  port: PolicyPort;
  target: string;
  total: bigint;
  cap: bigint;
  union: number;
}

function crossingIssue(request: AccessRequest, policy: JitPolicy, c: Crossing, family: IpFamily): Issue {
  const key = familyKey(family);
  const msg =
    `${SOURCE_FIELD} ${request.spec.sourceAddressPrefix} would make the allow rule of port ` +
    `${c.port.number}/${c.port.protocol} on target ${lastSegment(c.target)} in policy ` +
    `${policy.metadata.name ?? "<unnamed>"} open ${c.total.toLocaleString("en-US")} ${family} addresses ` +
    `at once, above the ${c.cap.toLocaleString("en-US")} (one /${c.union}) its sourceUnionPrefixLength.${key} ` +
    `allows; ask again when other grants have closed, name a narrower prefix, or have the policy widen ` +
    `the port's sourceUnionPrefixLength.${key}`;
  return issue("SourceUnionTooWide", SOURCE_FIELD, msg);
}

/** An allow rule of a policy: target as the policy writes it, port and protocol. */
export interface RuleOf {
  targetId: string;
  port: number;
  protocol: string;
}

/**
 * How many addresses of `family` the rule would open with the sources it carries now (the request's
 * own left out) and `added` (canonical prefix text) together, each address counted once.
 */
export type RuleTotal = (rule: RuleOf, added: string, family: IpFamily) => bigint;

/**
 * Would this request push the sources of one allow rule (policy, target, protocol, port) past the
 * port's sourceUnionPrefixLength? `peers` are the active grants of the policy (the request's own are
 * left out). Checked when a request is approved, so the grant that would cross the bound is the one
 * denied, by name, instead of one being dropped silently later. Wildcards have their own rule.
 * The reference form: the operator keeps the unions as grants come and go (sourceUnionIssueWith).
 */
export function sourceUnionIssue(
  request: AccessRequest,
  policy: JitPolicy,
  peers: readonly Grant[],
): Issue | undefined {
  const carried = carriedByRule(peers, objectKey(policy.metadata), objectKey(request.metadata));
  return sourceUnionIssueWith(request, policy, (rule, added, family) => {
    const sources = carried.get(ruleKey(rule.targetId, rule.port, rule.protocol)) ?? [];
    return unionAddressCount([...sources, added], family);
  });
}

/** sourceUnionIssue with the rules' current totals from `total` instead of a list of peers. */
export function sourceUnionIssueWith(
  request: AccessRequest,
  policy: JitPolicy,
  total: RuleTotal,
): Issue | undefined {
  const source = request.spec.sourceAddressPrefix;
  const parsed = parsePrefix(source);
  if (isWildcardPrefix(source) || !parsed.ok) return undefined;
  const family = parsed.prefix.family;
  const targets = requestedTargets(request, policy);
  const ports = effectivePolicySpec(policy.spec).ports;
  for (const number of new Set(request.spec.ports)) {
    for (const port of ports.filter((p) => p.number === number)) {
      const { union } = sourceLimits(port, family);
      const cap = prefixAddressCount(family, union);
      for (const target of targets) {
        const rule = { targetId: target, port: number, protocol: port.protocol };
        const sum = total(rule, parsed.prefix.text, family);
        if (sum > cap)
          return crossingIssue(request, policy, { port, target, total: sum, cap, union }, family);
      }
    }
  }
  return undefined;
}
