// The pure core of drawbridge: no I/O, no clock of its own (callers pass `now`). Reconcilers gather
// state, call these functions, and apply what they return. Only what the rest of the code base uses
// is exported here.
//
// - parsePrefix / normalizePrefix / prefixContains / prefixesOverlap / isWildcardPrefix:
//   strict IPv4/IPv6 address and CIDR maths (cidr.ts).
// - parseDuration / formatDuration / DURATION_BOUNDS: ISO-8601 PnDTnHnMnS durations (duration.ts).
// - validatePolicySpec(spec): every issue of a JitPolicy spec (shape, ranges, CIDRs, durations).
// - effectivePolicySpec(spec): the spec with the CRD defaults applied.
// - validateRequestSpec(spec): the request's own issues (what admission checks), no policy needed.
// - validateRequest(request, policy): allowed, or denied with the first broken limit and all issues.
// - verdictOf(issues): a Verdict from a list of issues (first issue is the reason).
// - objectKey(meta): "namespace/name"; policyKeyOf(request): the key of the policy it names.
// - activeGrants(policies, requests, now): grants that must be in NSGs now, and the next expiry.
// - planNsg({ nsg, bindings, grants }): desired managed rules, PUTs/DELETEs, whole-NSG body,
//   PriorityConflict / BaselineShadowed findings, grants rejected for capacity, grant placements.
// - desiredRules(input): the desired-state half of planNsg (no diff).
// - ruleSignature(rule): comparison key over the fields Azure acts on (drift detection).
// - ruleSources / ruleDestinations / ruleDestinationPorts / rulePrefixCount: singular+plural views.
// - rule naming helpers (names.ts): deterministic names within Azure limits.
export type { Issue, Verdict, Grant, PolicyBinding, PlanInput, NsgPlan } from "./types.ts";
export type { PriorityConflict, ShadowedBaseline } from "./types.ts";
export type { IpFamily } from "./cidr.ts";
export type { DurationResult } from "./duration.ts";
export type { SecurityRule, ObservedNsg, RuleDirection, RuleAccess, RuleProtocol } from "./nsg.ts";
export { AZURE_LIMITS, instanceRulePrefix, isManagedRule, isValidInstanceId } from "./nsg.ts";
export { isOwnRule, ownGrammar, ownNameFormat } from "./rule-grammar.ts";
export {
  WILDCARD_PREFIXES,
  isWildcardPrefix,
  normalizePrefix,
  parsePrefix,
  prefixContains,
  prefixesOverlap,
} from "./cidr.ts";
export { DURATION_BOUNDS, formatDuration, parseDuration } from "./duration.ts";
export {
  effectivePolicySpec,
  validatePolicySpec,
  validateRequest,
  validateRequestSpec,
  verdictOf,
} from "./validate.ts";
export { activeGrants, compareGrants, requestGrants } from "./grants.ts";
export { objectKey, policyKeyOf } from "./keys.ts";
export { planNsg } from "./plan.ts";
export { newPlanMemo } from "./plan-memo.ts";
export type { PlanMemo } from "./plan-memo.ts";
export { desiredRules } from "./desired.ts";
export type { DesiredState } from "./desired.ts";
export {
  ruleSignature,
  ruleSources,
  ruleDestinations,
  ruleDestinationPorts,
  rulePrefixCount,
} from "./rules.ts";
export {
  allowRuleDescription,
  allowRuleName,
  bindingRulePrefix,
  denyRuleDescription,
  denyRuleName,
  isValidRuleName,
  ruleProtocol,
} from "./names.ts";
