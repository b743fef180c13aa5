// Who may do what in the demo: the operator's namespace, alice as a requester in team-a, and bob as
// the namespace admin of team-b (which no JitScope grants demo-rg, so the chart's scope policy
// refuses his policies there). The operator itself runs with the admin kubeconfig.
import { stringify } from "yaml";
import { DEMO_NAMESPACE, DEMO_RELEASE, OTHER_TEAM_NAMESPACE } from "./names.ts";

type Doc = Record<string, unknown>;

const JIT_GROUP = "jit.drawbridge.dev";
const EVENT_READ = [
  { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["get", "list", "watch"] },
];
const CRUD = ["create", "get", "list", "watch", "update", "patch", "delete"];

function namespace(name: string): Doc {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name } };
}

function roleFor(user: string, ns: string, role: string, rules: Doc[]): Doc[] {
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: role, namespace: ns },
      rules,
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: `${user}-${role}`, namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
    },
  ];
}

/**
 * alice works with AccessRequests in `ns`, reads its JitPolicies and events, and may request access
 * under any of its policies (the verb "use", which the chart's requester policy checks), nothing else.
 */
export function aliceRbac(ns: string): Doc[] {
  return roleFor("alice", ns, "drawbridge-requester", [
    { apiGroups: [JIT_GROUP], resources: ["accessrequests"], verbs: CRUD },
    { apiGroups: [JIT_GROUP], resources: ["jitpolicies"], verbs: ["get", "list", "watch", "use"] },
    ...EVENT_READ,
  ]);
}

/** bob administers drawbridge objects in `ns`: JitPolicies and AccessRequests, all verbs. */
export function namespaceAdminRbac(user: string, ns: string): Doc[] {
  return roleFor(user, ns, "drawbridge-namespace-admin", [
    { apiGroups: [JIT_GROUP], resources: ["jitpolicies", "accessrequests"], verbs: CRUD },
    ...EVENT_READ,
  ]);
}

/** The namespaces and RBAC of the demo, as one multi-document YAML stream for `kubectl apply -f -`. */
export function demoAccessYaml(): string {
  const docs = [
    namespace(DEMO_RELEASE.namespace),
    namespace(DEMO_NAMESPACE),
    namespace(OTHER_TEAM_NAMESPACE),
    ...aliceRbac(DEMO_NAMESPACE),
    ...namespaceAdminRbac("bob", OTHER_TEAM_NAMESPACE),
  ];
  return docs.map((d) => stringify(d)).join("---\n");
}
