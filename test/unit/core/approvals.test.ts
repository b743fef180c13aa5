// The pure parts of approvals: which rule applies, who is eligible, how approvals are counted,
// the justification rule, the policy checks, and the client helpers (manifest, pending).
import { describe, expect, it } from "@jest/globals";
import type { AccessApproval, AccessRequest, ApprovalPolicy, JitPolicy } from "../../../src/api/types.ts";
import { approvalSpecIssues } from "../../../src/core/approval-checks.ts";
import { justificationIssue } from "../../../src/core/approval-justification.ts";
import { buildApprovalManifest, pendingFor } from "../../../src/core/approval-manifest.ts";
import { effectiveApproval, ineligibility } from "../../../src/core/approval-policy.ts";
import { approvalsFor, tallyApprovals } from "../../../src/core/approval-tally.ts";

const NS = "team-a";

function policy(approval?: ApprovalPolicy, portApproval?: ApprovalPolicy): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { name: "p", namespace: NS },
    spec: {
      targets: [],
      ports: [
        { number: 22, protocol: "TCP", maxDuration: "PT1H" },
        {
          number: 3389,
          protocol: "TCP",
          maxDuration: "PT1H",
          ...(portApproval ? { approval: portApproval } : {}),
        },
      ],
      priorityRange: { from: 100, to: 199 },
      nsgScope: "All",
      ...(approval ? { approval } : {}),
    },
  };
}

function request(ports = [22], extra: Partial<AccessRequest["status"]> = {}): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { name: "r1", namespace: NS, uid: "u-1", creationTimestamp: "2026-01-01T00:00:00Z" },
    spec: {
      policyName: "p",
      ports,
      sourceAddressPrefix: "203.0.113.7/32",
      duration: "PT1H",
      justification: "INC-1 x",
      requester: "alice",
    },
    status: { ...extra },
  };
}

let seq = 0;
function approval(
  approver: string,
  decision: "Approve" | "Reject" = "Approve",
  groups?: string[],
  at = "2026-01-01T00:01:00Z",
): AccessApproval {
  seq++;
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessApproval",
    metadata: { name: `a${seq}`, namespace: NS, creationTimestamp: at },
    spec: {
      requestName: "r1",
      requestUID: "u-1",
      decision,
      approver,
      ...(groups ? { approverGroups: groups } : {}),
    },
  };
}

const TWO: ApprovalPolicy = { required: 2, approvers: { users: ["bob", "carol"], groups: ["sre"] } };

describe("effectiveApproval", () => {
  it("is automatic without a rule", () => {
    expect(effectiveApproval(request(), policy()).required).toBe(0);
  });
  it("takes a port's own rule, and the strictest when ports differ", () => {
    const p = policy(
      { required: 1, approvers: { users: ["bob", "carol"] }, timeout: "PT2H" },
      { required: 2, approvers: { users: ["carol"] }, timeout: "PT30M" },
    );
    expect(effectiveApproval(request([22]), p).required).toBe(1);
    const both = effectiveApproval(request([22, 3389]), p);
    expect(both.required).toBe(2);
    expect([...both.users]).toEqual(["carol"]);
    expect(both.timeoutMs).toBe(1_800_000);
  });
  it("defaults the timeout to one hour", () => {
    expect(effectiveApproval(request(), policy(TWO)).timeoutMs).toBe(3_600_000);
  });
});

describe("ineligibility", () => {
  const rule = effectiveApproval(request(), policy(TWO));
  it("names listed users and group members eligible, others not", () => {
    expect(ineligibility(rule, "alice", "bob", [])).toBeUndefined();
    expect(ineligibility(rule, "alice", "dave", ["sre"])).toBeUndefined();
    expect(ineligibility(rule, "alice", "eve", ["dev"])).toBe("NotAnApprover");
  });
  it("refuses the requester unless allowed, and even then only when eligible", () => {
    expect(ineligibility(rule, "bob", "bob", [])).toBe("SelfApproval");
    const self = effectiveApproval(request(), policy({ ...TWO, allowSelfApproval: true }));
    expect(ineligibility(self, "bob", "bob", [])).toBeUndefined();
    expect(ineligibility(self, "eve", "eve", [])).toBe("NotAnApprover");
  });
});

describe("tallyApprovals", () => {
  const rule = effectiveApproval(request(), policy(TWO));
  it("counts distinct eligible approvers", () => {
    const t = tallyApprovals(
      request(),
      rule,
      [approval("alice"), approval("eve"), approval("bob"), approval("bob")],
      true,
    );
    expect(t.counted).toBe(1);
    expect(t.summary).toBe("1/2");
    expect(t.outcome.kind).toBe("waiting");
    expect(t.records.map((r) => r.reason ?? "counted")).toEqual([
      "SelfApproval",
      "NotAnApprover",
      "counted",
      "Duplicate",
    ]);
    const two = tallyApprovals(
      request(),
      rule,
      [approval("bob"), approval("dave", "Approve", ["sre"])],
      true,
    );
    expect(two.outcome.kind).toBe("approved");
    expect(two.summary).toBe("2/2");
  });
  it("one eligible rejection rejects; an ineligible one is ignored", () => {
    const t = tallyApprovals(
      request(),
      rule,
      [approval("bob"), approval("carol"), approval("sam", "Reject", ["sre"])],
      true,
    );
    expect(t.outcome).toEqual({ kind: "rejected", by: "sam", comment: undefined });
    const e = tallyApprovals(request(), rule, [approval("eve", "Reject")], true);
    expect(e.outcome.kind).toBe("waiting");
  });
  it("counts nothing where the approver admission policy does not hold", () => {
    const t = tallyApprovals(request(), rule, [approval("bob"), approval("carol")], false);
    expect(t.counted).toBe(0);
    expect(t.records.every((r) => r.reason === "ApproverNotBound")).toBe(true);
  });
  it("ignores approvals created after the deadline", () => {
    const deadline = Date.parse("2026-01-01T01:00:00Z");
    const t = tallyApprovals(
      request(),
      rule,
      [approval("bob"), approval("carol", "Approve", undefined, "2026-01-01T01:00:01Z")],
      true,
      deadline,
    );
    expect(t.counted).toBe(1);
    expect(t.records[1]?.reason).toBe("AfterTimeout");
  });
  it("approvalsFor keeps only approvals of this request's name and uid", () => {
    const other = { ...approval("bob"), spec: { ...approval("bob").spec, requestUID: "u-old" } };
    const mine = approval("carol");
    expect(approvalsFor(request(), [other, mine]).map((a) => a.spec.approver)).toEqual(["carol"]);
  });
});

describe("justificationIssue", () => {
  it("names the rule broken", () => {
    expect(justificationIssue("restart", { pattern: "^(INC|CHG)-[0-9]+" }, "p")?.reason).toBe(
      "JustificationPatternMismatch",
    );
    expect(justificationIssue("INC-1", { minLength: 8 }, "p")?.reason).toBe("JustificationTooShort");
    expect(justificationIssue("  ", { required: true }, "p")?.reason).toBe("JustificationRequired");
    expect(
      justificationIssue("CHG-42 deploy", { pattern: "^(INC|CHG)-[0-9]+", minLength: 8 }, "p"),
    ).toBeUndefined();
    expect(justificationIssue("anything", undefined, "p")).toBeUndefined();
  });
});

describe("approvalSpecIssues", () => {
  it("refuses out-of-range counts, bad timeouts and patterns that do not compile", () => {
    const issues = approvalSpecIssues({
      approval: { required: 11, timeout: "PT1S" },
      justification: { pattern: "(" },
      ports: [{ approval: { required: -1 } }],
    });
    expect(issues.map((i) => i.field).sort()).toEqual([
      "spec.approval.required",
      "spec.approval.timeout",
      "spec.justification.pattern",
      "spec.ports[0].approval.required",
    ]);
    expect(approvalSpecIssues({ approval: TWO, justification: { minLength: 3 } })).toEqual([]);
  });
});

describe("client helpers", () => {
  it("buildApprovalManifest binds the request's uid and the caller", () => {
    const m = buildApprovalManifest({
      request: request(),
      decision: "Reject",
      user: "bob",
      groups: ["sre"],
      comment: " no ",
    });
    expect(m.metadata).toEqual({ generateName: "r1-", namespace: NS });
    expect(m.spec).toEqual({
      requestName: "r1",
      requestUID: "u-1",
      decision: "Reject",
      approver: "bob",
      approverGroups: ["sre"],
      comment: "no",
    });
    expect(() =>
      buildApprovalManifest({
        request: { metadata: { name: "x" } },
        decision: "Approve",
        user: "b",
        groups: [],
      }),
    ).toThrow(/metadata.uid/);
  });
  it("pendingFor lists what waits for an eligible user who has not answered", () => {
    const input = { requests: [request()], policies: [policy(TWO)], approvals: [] as AccessApproval[] };
    expect(pendingFor({ ...input, user: "bob", groups: [] })).toHaveLength(1);
    expect(pendingFor({ ...input, user: "dave", groups: ["sre"] })).toHaveLength(1);
    expect(pendingFor({ ...input, user: "eve", groups: [] })).toHaveLength(0);
    expect(pendingFor({ ...input, user: "alice", groups: [] })).toHaveLength(0);
    expect(pendingFor({ ...input, approvals: [approval("bob")], user: "bob", groups: [] })).toHaveLength(0);
    expect(pendingFor({ ...input, policies: [policy()], user: "bob", groups: [] })).toHaveLength(0);
    const active = request([22], { phase: "Active", startTime: "2026-01-01T00:02:00Z" });
    expect(pendingFor({ ...input, requests: [active], user: "bob", groups: [] })).toHaveLength(0);
  });
});
