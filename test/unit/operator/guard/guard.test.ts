import { describe, expect, it } from "@jest/globals";
import {
  decideGuard,
  selectorSelects,
  unguardedNamespaces,
  type GuardBinding,
  type GuardCheckName,
  type GuardNamespace,
  type GuardPolicy,
  type LabelSelector,
  type ResourceRule,
} from "../../../../src/operator/guard/guard.ts";

const NAME = "drawbridge-requester-is-caller";
const AR_RULE: ResourceRule = {
  apiGroups: ["jit.drawbridge.dev"],
  apiVersions: ["v1alpha1"],
  operations: ["CREATE", "UPDATE"],
  resources: ["accessrequests"],
};

type PolicySpec = NonNullable<GuardPolicy["spec"]>;
type BindingSpec = NonNullable<GuardBinding["spec"]>;

/** The chart's policy (the fields the check reads), with `over` merged into its spec. */
function policy(over: Partial<PolicySpec> = {}, name = NAME): GuardPolicy {
  return {
    metadata: { name },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: { resourceRules: [AR_RULE] },
      validations: [{ expression: "true" }, { expression: "true" }],
      ...over,
    },
  };
}

function binding(over: Partial<BindingSpec> = {}, name = NAME): GuardBinding {
  return { metadata: { name }, spec: { policyName: NAME, validationActions: ["Deny"], ...over } };
}

function ns(name: string, labels: Record<string, string> = {}): GuardNamespace {
  return { name, labels: { "kubernetes.io/metadata.name": name, ...labels } };
}

/** A namespace whose labels the operator could not read. */
function unreadNs(name: string): GuardNamespace {
  return { name, labels: undefined };
}

const TEAM_A = ns("team-a", { tier: "prod", "jit.drawbridge.dev/enabled": "true" });
const TEAM_C = ns("team-c", { tier: "dev" });

function rules(...r: ResourceRule[]): { resourceRules: ResourceRule[] } {
  return { resourceRules: r };
}

function selectedBy(namespaceSelector: LabelSelector): GuardBinding {
  return binding({ matchResources: { namespaceSelector } });
}

type Case = {
  name: string;
  policies: GuardPolicy[];
  bindings: GuardBinding[];
  namespace?: GuardNamespace;
  /** undefined: guarded. */
  check?: GuardCheckName;
  message?: string | RegExp;
};

const CASES: Case[] = [
  // The chart as shipped.
  { name: "the chart's policy and binding", policies: [policy()], bindings: [binding()] },
  {
    name: "no labelled policy",
    policies: [],
    bindings: [binding()],
    check: "policyExists",
    message:
      "no ValidatingAdmissionPolicy labelled jit.drawbridge.dev/guard=requester exists: install the chart " +
      "with admissionPolicy.enabled=true, or start the operator with --allow-unguarded-namespaces",
  },
  // What the policy matches.
  {
    name: "policy matches CREATE only",
    policies: [policy({ matchConstraints: rules({ ...AR_RULE, operations: ["CREATE"] }) })],
    bindings: [binding()],
    check: "policyMatchesAccessRequests",
    message:
      /^ValidatingAdmissionPolicy drawbridge-requester-is-caller does not check UPDATE of accessrequests\.jit\.drawbridge\.dev/,
  },
  {
    name: "policy matches operation *",
    policies: [policy({ matchConstraints: rules({ ...AR_RULE, operations: ["*"] }) })],
    bindings: [binding()],
  },
  {
    name: "policy matches CREATE and UPDATE in two rules",
    policies: [
      policy({
        matchConstraints: rules(
          { ...AR_RULE, operations: ["UPDATE"] },
          { ...AR_RULE, operations: ["CREATE"] },
        ),
      }),
    ],
    bindings: [binding()],
  },
  {
    name: "policy matches every group, version and resource",
    policies: [
      policy({
        matchConstraints: rules({ ...AR_RULE, apiGroups: ["*"], apiVersions: ["*"], resources: ["*"] }),
      }),
    ],
    bindings: [binding()],
  },
  {
    name: "policy matches */* (resources and subresources)",
    policies: [policy({ matchConstraints: rules({ ...AR_RULE, resources: ["*/*"] }) })],
    bindings: [binding()],
  },
  {
    name: "policy matches another group",
    policies: [policy({ matchConstraints: rules({ ...AR_RULE, apiGroups: ["example.com"] }) })],
    bindings: [binding()],
    check: "policyMatchesAccessRequests",
    message: /does not check CREATE and UPDATE of accessrequests/,
  },
  {
    name: "policy matches another version",
    policies: [policy({ matchConstraints: rules({ ...AR_RULE, apiVersions: ["v1"] }) })],
    bindings: [binding()],
    check: "policyMatchesAccessRequests",
  },
  {
    name: "policy matches another resource",
    policies: [policy({ matchConstraints: rules({ ...AR_RULE, resources: ["jitpolicies"] }) })],
    bindings: [binding()],
    check: "policyMatchesAccessRequests",
  },
  {
    name: "policy matches only the status subresource",
    policies: [policy({ matchConstraints: rules({ ...AR_RULE, resources: ["accessrequests/status"] }) })],
    bindings: [binding()],
    check: "policyMatchesAccessRequests",
  },
  {
    name: "policy matches cluster-scoped resources only",
    policies: [policy({ matchConstraints: rules({ ...AR_RULE, scope: "Cluster" }) })],
    bindings: [binding()],
    check: "policyMatchesAccessRequests",
  },
  {
    name: "policy limited to some request names",
    policies: [policy({ matchConstraints: rules({ ...AR_RULE, resourceNames: ["r1"] }) })],
    bindings: [binding()],
    check: "policyMatchesAccessRequests",
  },
  {
    name: "policy without matchConstraints",
    policies: [policy({ matchConstraints: undefined })],
    bindings: [binding()],
    check: "policyMatchesAccessRequests",
  },
  {
    name: "policy excludes UPDATE of accessrequests",
    policies: [
      policy({
        matchConstraints: {
          resourceRules: [AR_RULE],
          excludeResourceRules: [{ ...AR_RULE, operations: ["UPDATE"], resourceNames: ["r1"] }],
        },
      }),
    ],
    bindings: [binding()],
    check: "policyMatchesAccessRequests",
    message: /does not check UPDATE of/,
  },
  // How the policy fails and what it checks.
  {
    name: "failurePolicy Ignore",
    policies: [policy({ failurePolicy: "Ignore" })],
    bindings: [binding()],
    check: "policyFailsClosed",
    message: /has failurePolicy Ignore, .*: set failurePolicy to Fail$/,
  },
  {
    name: "failurePolicy unset (defaults to Fail)",
    policies: [policy({ failurePolicy: undefined })],
    bindings: [binding()],
  },
  {
    name: "policy without validations",
    policies: [policy({ validations: [] })],
    bindings: [binding()],
    check: "policyValidates",
  },
  {
    name: "policy with matchConditions",
    policies: [policy({ matchConditions: [{ name: "skip", expression: "false" }] })],
    bindings: [binding()],
    check: "policyHasNoMatchConditions",
  },
  {
    name: "policy with an objectSelector",
    policies: [
      policy({
        matchConstraints: { resourceRules: [AR_RULE], objectSelector: { matchLabels: { checked: "yes" } } },
      }),
    ],
    bindings: [binding()],
    check: "policyHasNoObjectSelector",
  },
  {
    name: "policy with an empty objectSelector",
    policies: [policy({ matchConstraints: { resourceRules: [AR_RULE], objectSelector: {} } })],
    bindings: [binding()],
  },
  {
    name: "policy's namespaceSelector excludes the namespace",
    policies: [
      policy({
        matchConstraints: { resourceRules: [AR_RULE], namespaceSelector: { matchLabels: { tier: "prod" } } },
      }),
    ],
    bindings: [binding()],
    namespace: TEAM_C,
    check: "policySelectsNamespace",
    message:
      /^ValidatingAdmissionPolicy drawbridge-requester-is-caller's matchConstraints\.namespaceSelector does not select namespace team-c/,
  },
  // The binding.
  {
    name: "no binding",
    policies: [policy()],
    bindings: [],
    check: "bindingExists",
    message:
      /^no ValidatingAdmissionPolicyBinding labelled jit\.drawbridge\.dev\/guard=requester has policyName drawbridge-requester-is-caller/,
  },
  {
    name: "binding whose policyName points elsewhere",
    policies: [policy()],
    bindings: [binding({ policyName: "something-else" })],
    check: "bindingExists",
  },
  {
    name: "binding in Audit and Warn only",
    policies: [policy()],
    bindings: [binding({ validationActions: ["Audit", "Warn"] })],
    check: "bindingDenies",
    message:
      /^binding drawbridge-requester-is-caller's validationActions are \[Audit, Warn\], which do not include Deny/,
  },
  {
    name: "binding in Warn and Deny",
    policies: [policy()],
    bindings: [binding({ validationActions: ["Warn", "Deny"] })],
  },
  {
    name: "binding without validationActions",
    policies: [policy()],
    bindings: [binding({ validationActions: undefined })],
    check: "bindingDenies",
  },
  {
    name: "binding excludes accessrequests",
    policies: [policy()],
    bindings: [binding({ matchResources: { excludeResourceRules: [{ ...AR_RULE, operations: ["*"] }] } })],
    check: "bindingMatchesAccessRequests",
    message:
      /^binding drawbridge-requester-is-caller's matchResources leave out CREATE and UPDATE of accessrequests/,
  },
  {
    name: "binding excludes accessrequests by name (the requester picks names)",
    policies: [policy()],
    bindings: [binding({ matchResources: { excludeResourceRules: [{ ...AR_RULE, resourceNames: ["x"] }] } })],
    check: "bindingMatchesAccessRequests",
  },
  {
    name: "binding excludes DELETE only",
    policies: [policy()],
    bindings: [
      binding({ matchResources: { excludeResourceRules: [{ ...AR_RULE, operations: ["DELETE"] }] } }),
    ],
  },
  {
    name: "binding excludes another resource",
    policies: [policy()],
    bindings: [
      binding({
        matchResources: {
          excludeResourceRules: [{ ...AR_RULE, operations: ["*"], resources: ["jitpolicies"] }],
        },
      }),
    ],
  },
  {
    name: "binding's resourceRules narrow to CREATE",
    policies: [policy()],
    bindings: [binding({ matchResources: rules({ ...AR_RULE, operations: ["CREATE"] }) })],
    check: "bindingMatchesAccessRequests",
    message: /leave out UPDATE of/,
  },
  {
    name: "binding's empty resourceRules do not narrow",
    policies: [policy()],
    bindings: [binding({ matchResources: rules() })],
  },
  {
    name: "binding with an objectSelector",
    policies: [policy()],
    bindings: [
      binding({
        matchResources: { objectSelector: { matchExpressions: [{ key: "x", operator: "Exists" }] } },
      }),
    ],
    check: "bindingHasNoObjectSelector",
  },
  {
    name: "binding with a paramRef (ignored)",
    policies: [policy()],
    bindings: [{ ...binding(), spec: { ...binding().spec, paramRef: { name: "p" } } as BindingSpec }],
  },
  // The binding's namespaceSelector.
  { name: "empty namespaceSelector selects all", policies: [policy()], bindings: [selectedBy({})] },
  {
    name: "matchLabels selects",
    policies: [policy()],
    bindings: [selectedBy({ matchLabels: { "jit.drawbridge.dev/enabled": "true" } })],
  },
  {
    name: "matchLabels does not select",
    policies: [policy()],
    bindings: [selectedBy({ matchLabels: { "jit.drawbridge.dev/enabled": "true" } })],
    namespace: TEAM_C,
    check: "bindingSelectsNamespace",
    message: /^binding drawbridge-requester-is-caller's namespaceSelector does not select namespace team-c: /,
  },
  {
    name: "matchLabels with a different value",
    policies: [policy()],
    bindings: [selectedBy({ matchLabels: { tier: "prod" } })],
    namespace: TEAM_C,
    check: "bindingSelectsNamespace",
  },
  {
    name: "In selects",
    policies: [policy()],
    bindings: [selectedBy({ matchExpressions: [{ key: "tier", operator: "In", values: ["dev", "prod"] }] })],
  },
  {
    name: "In does not select (other value)",
    policies: [policy()],
    bindings: [selectedBy({ matchExpressions: [{ key: "tier", operator: "In", values: ["dev"] }] })],
    check: "bindingSelectsNamespace",
  },
  {
    name: "In does not select (label absent)",
    policies: [policy()],
    bindings: [selectedBy({ matchExpressions: [{ key: "absent", operator: "In", values: [""] }] })],
    check: "bindingSelectsNamespace",
  },
  {
    name: "NotIn selects (label absent)",
    policies: [policy()],
    bindings: [selectedBy({ matchExpressions: [{ key: "absent", operator: "NotIn", values: ["x"] }] })],
  },
  {
    name: "NotIn excludes by name",
    policies: [policy()],
    bindings: [
      selectedBy({
        matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["team-c"] }],
      }),
    ],
    namespace: TEAM_C,
    check: "bindingSelectsNamespace",
  },
  {
    name: "Exists selects",
    policies: [policy()],
    bindings: [selectedBy({ matchExpressions: [{ key: "tier", operator: "Exists" }] })],
  },
  {
    name: "Exists does not select",
    policies: [policy()],
    bindings: [selectedBy({ matchExpressions: [{ key: "absent", operator: "Exists" }] })],
    check: "bindingSelectsNamespace",
  },
  {
    name: "DoesNotExist selects",
    policies: [policy()],
    bindings: [selectedBy({ matchExpressions: [{ key: "absent", operator: "DoesNotExist" }] })],
  },
  {
    name: "DoesNotExist does not select",
    policies: [policy()],
    bindings: [selectedBy({ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] })],
    check: "bindingSelectsNamespace",
  },
  {
    name: "matchLabels and matchExpressions must both hold",
    policies: [policy()],
    bindings: [
      selectedBy({
        matchLabels: { tier: "prod" },
        matchExpressions: [{ key: "tier", operator: "NotIn", values: ["prod"] }],
      }),
    ],
    check: "bindingSelectsNamespace",
  },
  {
    name: "an unknown operator selects nothing",
    policies: [policy()],
    bindings: [selectedBy({ matchExpressions: [{ key: "tier", operator: "Gt", values: ["1"] }] })],
    check: "bindingSelectsNamespace",
  },
  {
    name: "unknown namespace labels under a namespaceSelector",
    policies: [policy()],
    bindings: [selectedBy({ matchLabels: { tier: "prod" } })],
    namespace: unreadNs("team-x"),
    check: "bindingSelectsNamespace",
    message: /^the labels of namespace team-x are unknown .* grant the operator get and list on namespaces/,
  },
  {
    name: "unknown namespace labels without a namespaceSelector",
    policies: [policy()],
    bindings: [binding()],
    namespace: unreadNs("team-x"),
  },
  // Several labelled objects.
  {
    name: "one binding in Audit, another in Deny",
    policies: [policy()],
    bindings: [binding({ validationActions: ["Audit"] }, "a-audit"), binding({}, "b-deny")],
  },
  {
    name: "the reason comes from the pair that got furthest",
    policies: [policy({ failurePolicy: "Ignore" }, "a-ignore"), policy()],
    bindings: [binding({ validationActions: ["Warn"] })],
    check: "bindingDenies",
  },
  {
    name: "a binding of another labelled policy does not count",
    policies: [policy({ validations: [] }, "other"), policy()],
    bindings: [binding({ policyName: "other" }, "other")],
    check: "bindingExists",
    message: /has policyName drawbridge-requester-is-caller/,
  },
];

describe("decideGuard", () => {
  it.each(CASES)("$name", (c) => {
    const namespace = c.namespace ?? TEAM_A;
    const verdict = decideGuard({ policies: c.policies, bindings: c.bindings, namespaces: [namespace] });
    expect(verdict.namespaces).toHaveLength(1);
    const v = verdict.namespaces[0]!;
    expect(v.namespace).toBe(namespace.name);
    if (c.check === undefined) {
      expect(v).toMatchObject({ guarded: true });
      return;
    }
    expect(v).toMatchObject({ guarded: false, check: c.check });
    if (v.guarded) return;
    if (typeof c.message === "string") expect(v.message).toBe(c.message);
    else if (c.message !== undefined) expect(v.message).toMatch(c.message);
  });

  it("names the policy and binding that guard a namespace", () => {
    const verdict = decideGuard({
      policies: [policy()],
      bindings: [binding({ validationActions: ["Audit"] }, "a-audit"), binding({}, "b-deny")],
      namespaces: [TEAM_A],
    });
    expect(verdict.namespaces).toEqual([
      { namespace: "team-a", guarded: true, policy: NAME, binding: "b-deny" },
    ]);
  });

  it("decides each namespace on its own, in input order", () => {
    const excludeC = selectedBy({
      matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["team-c"] }],
    });
    const verdict = decideGuard({
      policies: [policy()],
      bindings: [excludeC],
      namespaces: [TEAM_C, TEAM_A, ns("team-b")],
    });
    expect(verdict.namespaces.map((v) => [v.namespace, v.guarded])).toEqual([
      ["team-c", false],
      ["team-a", true],
      ["team-b", true],
    ]);
    expect(unguardedNamespaces(verdict).map((v) => v.namespace)).toEqual(["team-c"]);
  });

  it("does not depend on the order of policies and bindings", () => {
    const policies = [
      policy({ failurePolicy: "Ignore" }, "a-ignore"),
      policy(),
      policy({ validations: [] }, "z"),
    ];
    const bindings = [
      binding({ validationActions: ["Warn"] }, "w"),
      binding({ validationActions: ["Audit"] }, "a"),
    ];
    const forward = decideGuard({ policies, bindings, namespaces: [TEAM_A] });
    const backward = decideGuard({
      policies: [...policies].reverse(),
      bindings: [...bindings].reverse(),
      namespaces: [TEAM_A],
    });
    expect(backward).toEqual(forward);
    expect(forward.namespaces[0]).toMatchObject({ guarded: false, check: "bindingDenies" });
  });

  it("with no namespaces, decides nothing", () => {
    expect(decideGuard({ policies: [], bindings: [], namespaces: [] })).toEqual({ namespaces: [] });
  });
});

describe("selectorSelects", () => {
  const labels = { a: "1", b: "2" };
  it.each<[string, LabelSelector | undefined, boolean]>([
    ["undefined", undefined, true],
    ["empty", {}, true],
    ["matchLabels hit", { matchLabels: { a: "1" } }, true],
    ["matchLabels miss", { matchLabels: { a: "2" } }, false],
    ["In hit", { matchExpressions: [{ key: "b", operator: "In", values: ["2", "3"] }] }, true],
    ["In with no values", { matchExpressions: [{ key: "b", operator: "In", values: [] }] }, false],
    ["NotIn hit", { matchExpressions: [{ key: "b", operator: "NotIn", values: ["2"] }] }, false],
    ["NotIn absent", { matchExpressions: [{ key: "c", operator: "NotIn", values: ["2"] }] }, true],
    ["Exists", { matchExpressions: [{ key: "a", operator: "Exists" }] }, true],
    ["DoesNotExist", { matchExpressions: [{ key: "a", operator: "DoesNotExist" }] }, false],
    [
      "a label named like an Object method",
      { matchExpressions: [{ key: "toString", operator: "Exists" }] },
      false,
    ],
  ])("%s", (_, selector, expected) => {
    expect(selectorSelects(selector, labels)).toBe(expected);
  });
});
