// Whether the requester admission policy guards a namespace. The chart's ValidatingAdmissionPolicy
// is what stops a requester forging spec.requester or revoking someone else's request; the
// operator must not open grants in a namespace it does not cover. Pure: the caller reads the
// labelled policies and bindings (reader.ts) and the namespaces it serves.
//
// A namespace is guarded when one labelled policy and one binding of it pass every check below,
// in order; otherwise the verdict names the first check that failed (of the policy/binding pair
// that came furthest), phrased so that a person knows what to change.
import { ACCESSREQUEST_PLURAL, API_GROUP, API_VERSION } from "../../api/types.ts";

export const GUARD_LABEL = "jit.drawbridge.dev/guard";
export const GUARD_LABEL_VALUE = "requester";
export const GUARD_LABEL_SELECTOR = `${GUARD_LABEL}=${GUARD_LABEL_VALUE}`;
export const ALLOW_UNGUARDED_FLAG = "--allow-unguarded-namespaces";

// Only the fields the check reads, of plain admissionregistration.k8s.io/v1 JSON objects (the
// client's model classes fit these shapes too).
export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: readonly string[];
}

export interface LabelSelector {
  matchLabels?: Readonly<Record<string, string>>;
  matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface ResourceRule {
  apiGroups?: readonly string[];
  apiVersions?: readonly string[];
  operations?: readonly string[];
  resources?: readonly string[];
  /** Limits the rule to objects of these names; the requester picks the name of a request. */
  resourceNames?: readonly string[];
  scope?: string;
}

export interface MatchResources {
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  resourceRules?: readonly ResourceRule[];
  excludeResourceRules?: readonly ResourceRule[];
}

export interface GuardPolicy {
  metadata?: { name?: string };
  spec?: {
    failurePolicy?: string;
    matchConstraints?: MatchResources;
    matchConditions?: readonly unknown[];
    validations?: readonly unknown[];
  };
}

export interface GuardBinding {
  metadata?: { name?: string };
  spec?: {
    policyName?: string;
    validationActions?: readonly string[];
    matchResources?: MatchResources;
  };
}

export interface GuardNamespace {
  name: string;
  /** The namespace's labels; undefined when the operator could not read them. */
  labels: Readonly<Record<string, string>> | undefined;
}

export interface GuardInput {
  /** ValidatingAdmissionPolicies labelled GUARD_LABEL_SELECTOR. */
  policies: readonly GuardPolicy[];
  /** ValidatingAdmissionPolicyBindings labelled GUARD_LABEL_SELECTOR. */
  bindings: readonly GuardBinding[];
  /** The namespaces the operator serves. */
  namespaces: readonly GuardNamespace[];
  /** What the guard protects; default REQUESTER_GUARD (accessrequests, label guard=requester). */
  target?: GuardTarget;
}

/** The checks, in the order they run. */
export const GUARD_CHECKS = [
  "policyExists",
  "policyMatchesAccessRequests",
  "policyFailsClosed",
  "policyValidates",
  "policyHasNoMatchConditions",
  "policyHasNoObjectSelector",
  "policySelectsNamespace",
  "bindingExists",
  "bindingDenies",
  "bindingMatchesAccessRequests",
  "bindingHasNoObjectSelector",
  "bindingSelectsNamespace",
] as const;

export type GuardCheckName = (typeof GUARD_CHECKS)[number];

export type NamespaceVerdict =
  | { namespace: string; guarded: true; policy: string; binding: string }
  | { namespace: string; guarded: false; check: GuardCheckName; message: string };

export interface GuardVerdict {
  /** One entry per input namespace, in input order. */
  namespaces: readonly NamespaceVerdict[];
}

/** The operations a requester could forge or revoke with; both must be denied. */
const GUARDED_OPERATIONS = ["CREATE", "UPDATE"] as const;

/** What one guard protects: the resource its policy must check, and the label that finds it. */
export interface GuardTarget {
  plural: string;
  labelSelector: string;
}

export const REQUESTER_GUARD: GuardTarget = {
  plural: ACCESSREQUEST_PLURAL,
  labelSelector: GUARD_LABEL_SELECTOR,
};

function resourceOf(t: GuardTarget): string {
  return `${t.plural}.${API_GROUP}`;
}

function nameOf(o: { metadata?: { name?: string } }): string {
  return o.metadata?.name ?? "";
}

// ---------------------------------------------------------------------------------------------
// Resource rules, as the API server matches them (k8s.io/apiserver admission rules.Matcher).

function splitResource(r: string): [string, string] {
  const i = r.indexOf("/");
  return i < 0 ? [r, ""] : [r.slice(0, i), r.slice(i + 1)];
}

/** True when `rule` matches the accessrequests resource itself (not a subresource). */
function ruleMatchesAccessRequests(rule: ResourceRule, plural: string): boolean {
  const has = (list: readonly string[] | undefined, v: string): boolean =>
    (list ?? []).some((x) => x === "*" || x === v);
  const resource = (rule.resources ?? []).some((r) => {
    const [res, sub] = splitResource(r);
    return (res === "*" || res === plural) && (sub === "*" || sub === "");
  });
  const scope = rule.scope === undefined || rule.scope === "*" || rule.scope === "Namespaced";
  return has(rule.apiGroups, API_GROUP) && has(rule.apiVersions, API_VERSION) && resource && scope;
}

/**
 * Of CREATE and UPDATE on accessrequests, those the rules match. An including rule limited by
 * resourceNames covers only some requests, so it counts as matching none; an excluding one still
 * lets those names through, so it counts as excluding.
 */
function operationsMatched(rules: readonly ResourceRule[], including: boolean, plural: string): Set<string> {
  const out = new Set<string>();
  const counts = (r: ResourceRule): boolean =>
    ruleMatchesAccessRequests(r, plural) && (!including || (r.resourceNames ?? []).length === 0);
  for (const rule of rules.filter(counts)) {
    for (const op of GUARDED_OPERATIONS) {
      if ((rule.operations ?? []).some((o) => o === "*" || o === op)) out.add(op);
    }
  }
  return out;
}

/**
 * The guarded operations `m` leaves out: those its resourceRules do not match (when they
 * constrain at all) or its excludeResourceRules match.
 */
function operationsLeftOut(m: MatchResources | undefined, rulesRequired: boolean, plural: string): string[] {
  const include = m?.resourceRules;
  const constrains = rulesRequired || (include !== undefined && include.length > 0);
  const matched = constrains
    ? operationsMatched(include ?? [], true, plural)
    : new Set<string>(GUARDED_OPERATIONS);
  const excluded = operationsMatched(m?.excludeResourceRules ?? [], false, plural);
  return GUARDED_OPERATIONS.filter((op) => !matched.has(op) || excluded.has(op));
}

// ---------------------------------------------------------------------------------------------
// Label selectors (metav1.LabelSelector).

function isEmptySelector(s: LabelSelector | undefined): boolean {
  return (
    s === undefined ||
    (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0)
  );
}

function requirementHolds(r: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const present = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return present && value !== undefined && values.includes(value);
    case "NotIn":
      return !present || value === undefined || !values.includes(value);
    case "Exists":
      return present;
    case "DoesNotExist":
      return !present;
    default:
      // An operator this code does not know selects nothing: better unguarded than wrongly guarded.
      return false;
  }
}

/** metav1.LabelSelector semantics: an empty selector selects everything. */
export function selectorSelects(
  s: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (s === undefined) return true;
  const byLabel = Object.entries(s.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return byLabel && (s.matchExpressions ?? []).every((r) => requirementHolds(r, labels));
}

/**
 * undefined when `s` selects `ns`, else why not: `who` names the selector (e.g. "binding b's
 * namespaceSelector") and `fix` says what to change.
 */
function namespaceNotSelected(
  s: LabelSelector | undefined,
  ns: GuardNamespace,
  who: string,
  fix: string,
): string | undefined {
  if (isEmptySelector(s)) return undefined;
  if (ns.labels === undefined) {
    return (
      `the labels of namespace ${ns.name} are unknown (the operator could not read the namespace), so ` +
      `${who} cannot be evaluated: grant the operator get and list on namespaces, or ` +
      `remove the namespaceSelector`
    );
  }
  if (selectorSelects(s, ns.labels)) return undefined;
  return `${who} does not select namespace ${ns.name}: ${fix}`;
}

// ---------------------------------------------------------------------------------------------
// The checks. Each returns undefined when it passes, else the message for a person.

type Check<C> = { name: GuardCheckName; run: (c: C) => string | undefined };
type PolicyContext = { policy: GuardPolicy; namespace: GuardNamespace; target: GuardTarget };
type BindingContext = {
  binding: GuardBinding;
  policy: GuardPolicy;
  namespace: GuardNamespace;
  target: GuardTarget;
};

const HINT = `restore it from the chart (admissionPolicy.enabled=true), or start the operator with ${ALLOW_UNGUARDED_FLAG}`;

const policyMatchesAccessRequests: Check<PolicyContext> = {
  name: "policyMatchesAccessRequests",
  run: ({ policy, target }) => {
    const missing = operationsLeftOut(policy.spec?.matchConstraints, true, target.plural);
    if (missing.length === 0) return undefined;
    return (
      `ValidatingAdmissionPolicy ${nameOf(policy)} does not check ${missing.join(" and ")} of ` +
      `${resourceOf(target)} (spec.matchConstraints): ${HINT}`
    );
  },
};

const policyFailsClosed: Check<PolicyContext> = {
  name: "policyFailsClosed",
  run: ({ policy }) => {
    const fp = policy.spec?.failurePolicy ?? "Fail";
    if (fp === "Fail") return undefined;
    return (
      `ValidatingAdmissionPolicy ${nameOf(policy)} has failurePolicy ${fp}, so requests are admitted ` +
      `unchecked whenever it cannot be evaluated: set failurePolicy to Fail`
    );
  },
};

const policyValidates: Check<PolicyContext> = {
  name: "policyValidates",
  run: ({ policy }) =>
    (policy.spec?.validations ?? []).length > 0
      ? undefined
      : `ValidatingAdmissionPolicy ${nameOf(policy)} has no validations: ${HINT}`,
};

const policyHasNoMatchConditions: Check<PolicyContext> = {
  name: "policyHasNoMatchConditions",
  run: ({ policy }) =>
    (policy.spec?.matchConditions ?? []).length === 0
      ? undefined
      : `ValidatingAdmissionPolicy ${nameOf(policy)} has matchConditions, which may skip requests and ` +
        `which the operator cannot evaluate: remove them`,
};

const policyHasNoObjectSelector: Check<PolicyContext> = {
  name: "policyHasNoObjectSelector",
  run: ({ policy }) =>
    isEmptySelector(policy.spec?.matchConstraints?.objectSelector)
      ? undefined
      : `ValidatingAdmissionPolicy ${nameOf(policy)}'s matchConstraints.objectSelector skips AccessRequests ` +
        `by their labels, which the requester chooses: remove the objectSelector`,
};

const policySelectsNamespace: Check<PolicyContext> = {
  name: "policySelectsNamespace",
  run: ({ policy, namespace }) =>
    namespaceNotSelected(
      policy.spec?.matchConstraints?.namespaceSelector,
      namespace,
      `ValidatingAdmissionPolicy ${nameOf(policy)}'s matchConstraints.namespaceSelector`,
      "label the namespace to match it, or remove that namespaceSelector (the chart sets none)",
    ),
};

const bindingDenies: Check<BindingContext> = {
  name: "bindingDenies",
  run: ({ binding }) => {
    const actions = binding.spec?.validationActions ?? [];
    if (actions.includes("Deny")) return undefined;
    return (
      `binding ${nameOf(binding)}'s validationActions are [${actions.join(", ")}], which do not include ` +
      `Deny, so violations are only reported: add Deny`
    );
  },
};

const bindingMatchesAccessRequests: Check<BindingContext> = {
  name: "bindingMatchesAccessRequests",
  run: ({ binding, target }) => {
    const missing = operationsLeftOut(binding.spec?.matchResources, false, target.plural);
    if (missing.length === 0) return undefined;
    return (
      `binding ${nameOf(binding)}'s matchResources leave out ${missing.join(" and ")} of ${resourceOf(target)} ` +
      `(resourceRules / excludeResourceRules): remove that restriction`
    );
  },
};

const bindingHasNoObjectSelector: Check<BindingContext> = {
  name: "bindingHasNoObjectSelector",
  run: ({ binding }) =>
    isEmptySelector(binding.spec?.matchResources?.objectSelector)
      ? undefined
      : `binding ${nameOf(binding)}'s matchResources.objectSelector skips AccessRequests by their labels, ` +
        `which the requester chooses: remove the objectSelector`,
};

const bindingSelectsNamespace: Check<BindingContext> = {
  name: "bindingSelectsNamespace",
  run: ({ binding, namespace }) =>
    namespaceNotSelected(
      binding.spec?.matchResources?.namespaceSelector,
      namespace,
      `binding ${nameOf(binding)}'s namespaceSelector`,
      "label the namespace to match it, or widen admissionPolicy.namespaceSelector",
    ),
};

const POLICY_CHECKS: readonly Check<PolicyContext>[] = [
  policyMatchesAccessRequests,
  policyFailsClosed,
  policyValidates,
  policyHasNoMatchConditions,
  policyHasNoObjectSelector,
  policySelectsNamespace,
];

const BINDING_CHECKS: readonly Check<BindingContext>[] = [
  bindingDenies,
  bindingMatchesAccessRequests,
  bindingHasNoObjectSelector,
  bindingSelectsNamespace,
];

type Failure = { check: GuardCheckName; message: string };

function firstFailure<C>(checks: readonly Check<C>[], c: C): Failure | undefined {
  for (const check of checks) {
    const message = check.run(c);
    if (message !== undefined) return { check: check.name, message };
  }
  return undefined;
}

/** Of two failures, the one whose pair came further down the chain (the earlier one on a tie). */
function further(a: Failure | undefined, b: Failure): Failure {
  if (a === undefined) return b;
  return GUARD_CHECKS.indexOf(b.check) > GUARD_CHECKS.indexOf(a.check) ? b : a;
}

function byName<T extends { metadata?: { name?: string } }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
}

function decideNamespace(
  policies: readonly GuardPolicy[],
  bindings: readonly GuardBinding[],
  namespace: GuardNamespace,
  target: GuardTarget,
): NamespaceVerdict {
  const ns = namespace.name;
  if (policies.length === 0) {
    return {
      namespace: ns,
      guarded: false,
      check: "policyExists",
      message:
        `no ValidatingAdmissionPolicy labelled ${target.labelSelector} exists: install the chart with ` +
        `admissionPolicy.enabled=true, or start the operator with ${ALLOW_UNGUARDED_FLAG}`,
    };
  }
  let best: Failure | undefined;
  for (const policy of policies) {
    const policyFailure = firstFailure(POLICY_CHECKS, { policy, namespace, target });
    if (policyFailure !== undefined) {
      best = further(best, policyFailure);
      continue;
    }
    const own = bindings.filter((b) => b.spec?.policyName === nameOf(policy));
    if (own.length === 0) {
      best = further(best, {
        check: "bindingExists",
        message:
          `no ValidatingAdmissionPolicyBinding labelled ${target.labelSelector} has policyName ` +
          `${nameOf(policy)}, so the policy is not in force: ${HINT}`,
      });
      continue;
    }
    for (const binding of own) {
      const bindingFailure = firstFailure(BINDING_CHECKS, { binding, policy, namespace, target });
      if (bindingFailure === undefined) {
        return { namespace: ns, guarded: true, policy: nameOf(policy), binding: nameOf(binding) };
      }
      best = further(best, bindingFailure);
    }
  }
  // Unreachable with at least one policy (every path above records a failure or returns).
  const failure = best ?? { check: "policyExists", message: "no labelled policy applies" };
  return { namespace: ns, guarded: false, ...failure };
}

/** Per namespace: guarded, or the first check that failed and what to do about it. */
export function decideGuard(input: GuardInput): GuardVerdict {
  const policies = byName(input.policies);
  const bindings = byName(input.bindings);
  const target = input.target ?? REQUESTER_GUARD;
  return { namespaces: input.namespaces.map((ns) => decideNamespace(policies, bindings, ns, target)) };
}

/** The namespaces of `verdict` that are not guarded. */
export function unguardedNamespaces(verdict: GuardVerdict): Extract<NamespaceVerdict, { guarded: false }>[] {
  return verdict.namespaces.filter((v): v is Extract<NamespaceVerdict, { guarded: false }> => !v.guarded);
}
