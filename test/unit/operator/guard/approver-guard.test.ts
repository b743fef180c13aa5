// The admission guard's checks aimed at the approver admission policy: it must cover CREATE and
// UPDATE of accessapprovals; a policy that covers only accessrequests does not guard approvals.
import { describe, expect, it } from "@jest/globals";
import { APPROVER_GUARD } from "../../../../src/operator/guard/approver-guard.ts";
import { decideGuard } from "../../../../src/operator/guard/guard.ts";
import type { GuardBinding, GuardPolicy } from "../../../../src/operator/guard/guard.ts";

function policy(resource: string): GuardPolicy {
  return {
    metadata: { name: "drawbridge-approver-is-caller" },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ["jit.drawbridge.dev"],
            apiVersions: ["v1alpha1"],
            operations: ["CREATE", "UPDATE"],
            resources: [resource],
          },
        ],
      },
      validations: [{ expression: "true" }],
    },
  };
}

const binding: GuardBinding = {
  metadata: { name: "drawbridge-approver-is-caller" },
  spec: { policyName: "drawbridge-approver-is-caller", validationActions: ["Deny"] },
};

const namespaces = [{ name: "team-a", labels: {} }];

describe("the approver guard", () => {
  it("holds with the chart's shape on accessapprovals", () => {
    const v = decideGuard({
      policies: [policy("accessapprovals")],
      bindings: [binding],
      namespaces,
      target: APPROVER_GUARD,
    });
    expect(v.namespaces[0]).toMatchObject({ guarded: true });
  });

  it("does not hold for a policy on accessrequests only, and says which resource is missing", () => {
    const v = decideGuard({
      policies: [policy("accessrequests")],
      bindings: [binding],
      namespaces,
      target: APPROVER_GUARD,
    });
    const n = v.namespaces[0];
    expect(n).toMatchObject({ guarded: false, check: "policyMatchesAccessRequests" });
    expect(n?.guarded === false ? n.message : "").toContain("accessapprovals.jit.drawbridge.dev");
  });

  it("names the approver label when no policy exists", () => {
    const v = decideGuard({ policies: [], bindings: [], namespaces, target: APPROVER_GUARD });
    const n = v.namespaces[0];
    expect(n?.guarded === false ? n.message : "").toContain("jit.drawbridge.dev/guard=approver");
  });

  it("the requester guard is unchanged by default", () => {
    const v = decideGuard({ policies: [policy("accessapprovals")], bindings: [binding], namespaces });
    expect(v.namespaces[0]).toMatchObject({ guarded: false, check: "policyMatchesAccessRequests" });
  });
});
