// The pure core of drawbridge: no I/O, no clock of its own (callers pass `now`). Reconcilers gather
// state, call these functions, and apply what they return. Signatures here are stable; changes are
// additive only.
//
// - parsePrefix / normalizePrefix / prefixContains / prefixesOverlap / isWildcardPrefix / prefixFamily:
//   strict IPv4/IPv6 address and CIDR maths (cidr.ts).
// - parseDuration / formatDuration / DURATION_BOUNDS: ISO-8601 PnDTnHnMnS durations (duration.ts).
// - validatePolicySpec(spec): every issue of a JitPolicy spec (shape, ranges, CIDRs, durations).
// - effectivePolicySpec(spec): the spec with the CRD defaults applied.
// - validateRequestSpec(spec): the request's own issues (what admission checks), no policy needed.
// - validateRequest(request, policy): allowed, or denied with the first broken limit and all issues.
// - verdictOf(issues): a Verdict from a list of issues (first issue is the reason).
// - objectKey(meta): "namespace/name"; grantExpiry(request): startTime + duration capped by expiresAt.
// - activeGrants(policies, requests, now): grants that must be in NSGs now, and the next expiry.
// - planNsg({ nsg, bindings, grants }): desired managed rules, PUTs/DELETEs, whole-NSG body,
//   PriorityConflict / BaselineShadowed findings, grants rejected for capacity, grant placements.
// - desiredRules(input): the desired-state half of planNsg (no diff).
// - ruleSignature(rule): comparison key over the fields Azure acts on (drift detection).
// - ruleSources / ruleDestinations / ruleDestinationPorts / rulePrefixCount: singular+plural views.
// - rule naming helpers (names.ts): deterministic names within Azure limits.
export type {
  Clock,
  Issue,
  Verdict,
  Grant,
  ActiveGrants,
  PolicyBinding,
  PlanInput,
  NsgPlan,
} from "./types.ts";
export type {
  PriorityConflict,
  ShadowedBaseline,
  RejectedGrant,
  RejectionReason,
  GrantPlacement,
} from "./types.ts";
export type { IpFamily, ParsedPrefix, PrefixResult } from "./cidr.ts";
export type { DurationResult } from "./duration.ts";
export type { SecurityRule, ObservedNsg, RuleDirection, RuleAccess, RuleProtocol } from "./nsg.ts";
export {
  AZURE_LIMITS,
  INSTANCE_ID_MAX,
  MANAGED_RULE_PREFIX,
  instanceRulePrefix,
  isManagedRule,
  isValidInstanceId,
} from "./nsg.ts";
export { isOwnRule, ownGrammar, ownNameFormat } from "./rule-grammar.ts";
export {
  WILDCARD_PREFIXES,
  isWildcardPrefix,
  normalizePrefix,
  parsePrefix,
  prefixContains,
  prefixesOverlap,
  prefixFamily,
} from "./cidr.ts";
export { DURATION_BOUNDS, formatDuration, parseDuration } from "./duration.ts";
export {
  effectivePolicySpec,
  validatePolicySpec,
  validateRequest,
  validateRequestSpec,
  verdictOf,
} from "./validate.ts";
export { activeGrants, compareGrants, grantExpiry, objectKey } from "./grants.ts";
export { planNsg } from "./plan.ts";
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
  bindingHash,
  bindingRulePrefix,
  denyRuleDescription,
  denyRuleName,
  isValidRuleName,
  ruleProtocol,
  shortTargetName,
} from "./names.ts";
