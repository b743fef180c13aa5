// The RBAC the e2e and chaos suites give "alice": she may work with AccessRequests in one namespace
// and read its JitPolicies, nothing else.
import { stringify } from "yaml";

/** The Role and RoleBinding as a multi-document YAML stream for `kubectl apply -f -`. */
export function aliceRbacYaml(ns: string): string {
  const docs = [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "accessrequest-editor", namespace: ns },
      rules: [
        {
          apiGroups: ["jit.drawbridge.dev"],
          resources: ["accessrequests"],
          verbs: ["create", "get", "list", "watch", "update", "patch", "delete"],
        },
        { apiGroups: ["jit.drawbridge.dev"], resources: ["jitpolicies"], verbs: ["get", "list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "alice-accessrequest-editor", namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "accessrequest-editor" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice" }],
    },
  ];
  return docs.map((d) => stringify(d)).join("---\n");
}
