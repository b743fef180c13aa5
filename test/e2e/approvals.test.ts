// Approvals on the real API server, emulator and operator: a policy that needs 2 of 3 approvers
// opens only after the second distinct eligible approval; the requester's own approval, a
// non-approver's and a repeat do not count (and the status says why); one eligible rejection
// denies; no answer in time is TimedOut; the justification pattern is enforced; with the chart's
// approver admission policy, a forged approver or group is refused at admission.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { ensureHelm } from "../../src/helm/build.ts";
import { renderChart } from "../../src/helm/template.ts";
import type { Manifest } from "../../src/helm/template.ts";
import { buildApprovalManifest } from "../../src/core/approval-manifest.ts";
import { JUMP_NSG, Stack, eventually } from "./harness.ts";

jest.setTimeout(240_000);

// A letter first: hex such as "12e345" would read back from the rendered chart as a YAML number.
const run = `r${randomBytes(3).toString("hex")}`;
const label = "drawbridge.dev/approver-e2e";
let stack: Stack;
let guardObjects: Manifest[] = [];

interface Record_ {
  approver: string;
  counted: boolean;
  reason?: string;
  decision: string;
}

function yamlOf(objects: unknown[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join("");
}

/** People: alice asks; bob and carol are listed approvers, dave approves through group sre; eve is nobody. */
function peopleRbac(ns: string): unknown[] {
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "approver", namespace: ns },
      rules: [
        {
          apiGroups: ["jit.drawbridge.dev"],
          resources: ["accessapprovals"],
          verbs: ["create", "get", "list"],
        },
        { apiGroups: ["jit.drawbridge.dev"], resources: ["accessrequests"], verbs: ["get", "list"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "approvers", namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "approver" },
      subjects: ["alice", "bob", "carol", "dave", "eve"].map((name) => ({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "User",
        name,
      })),
    },
  ];
}

const APPROVAL = { required: 2, approvers: { users: ["bob", "carol"], groups: ["sre"] } };

let band = 280;

/**
 * A policy of its own priority band: policies whose bands overlap on an NSG are not written there.
 * Each test's policy covers the same VM and ports as the ones before it, so each takes a band below
 * theirs: an allow behind an earlier policy's deny would open nothing and its grant is Denied (ADR
 * 0019). (The seed's foreign rules sit at 300 and above.)
 */
async function policy(name: string, spec: Record<string, unknown>): Promise<void> {
  const priorityRange = { from: band, to: band + 19 };
  band -= 20;
  await stack.applyPolicy((doc) => {
    (doc.metadata as Record<string, unknown>).name = name;
    Object.assign(doc.spec as Record<string, unknown>, { priorityRange, ...spec });
  });
}

async function answer(
  request: string,
  as: string,
  decision: "Approve" | "Reject",
  groups: string[] = [],
): Promise<string> {
  const r = await stack.getRequest(request);
  const manifest = buildApprovalManifest({
    request: r as never,
    decision,
    user: as,
    groups,
    comment: `${decision} by ${as}`,
  });
  const out = await stack.kubectlOk(["create", "-f", "-", "-o", "name"], { as, input: stringify(manifest) });
  return out.trim().split("/").pop() ?? "";
}

async function status(name: string): Promise<Record<string, unknown>> {
  return (await stack.getRequest(name))?.status ?? {};
}

async function waitFor(
  name: string,
  what: string,
  ok: (s: Record<string, unknown>) => boolean,
  ms = 30_000,
): Promise<Record<string, unknown>> {
  return eventually(
    what,
    async () => {
      const s = await status(name);
      return ok(s) ? s : undefined;
    },
    ms,
  );
}

beforeAll(async () => {
  stack = await Stack.start("approvals");
  await stack.cluster.mintUser("carol", []);
  await stack.cluster.mintUser("dave", ["sre"]);
  await stack.cluster.mintUser("eve", []);
  await stack.kubectlOk(["apply", "-f", "-"], { input: yamlOf(peopleRbac(stack.ns)) });
  stack.startOperator();
  const helm = await ensureHelm({ env: process.env });
  const rendered = await renderChart(helm, {
    releaseName: `approvals-${run}`,
    namespace: stack.ns,
    values: { admissionPolicy: { namespaceSelector: { matchLabels: { [label]: run } } } },
  });
  guardObjects = rendered.filter(
    (m) => m.kind.startsWith("ValidatingAdmissionPolicy") && m.metadata.name.endsWith("-approver-is-caller"),
  );
  expect(guardObjects).toHaveLength(2);
}, 1_800_000);

afterAll(async () => {
  await stack.stop();
  if (guardObjects.length > 0) {
    await stack.cluster.kubectl(["delete", "--ignore-not-found", "--wait=false", "-f", "-"], {
      input: yamlOf(guardObjects),
    });
  }
});

describe("approvals", () => {
  test("2 of 3: opens only after the second distinct eligible approver; self, non-approver and repeat do not count", async () => {
    await policy("two-of-three", { approval: APPROVAL });
    const source = "203.0.113.7/32";
    const name = await stack.createRequest({ policyName: "two-of-three", sourceAddressPrefix: source });
    const waiting = await waitFor(name, "AwaitingApproval", (s) => s.reason === "AwaitingApproval");
    expect(waiting.phase).toBe("Pending");
    expect(waiting.approvalSummary).toBe("0/2");
    expect(waiting.startTime).toBeUndefined();

    await answer(name, "alice", "Approve");
    await answer(name, "eve", "Approve");
    await answer(name, "bob", "Approve");
    await answer(name, "bob", "Approve");
    const one = await waitFor(
      name,
      "4 approvals seen",
      (s) => ((s.approvals as unknown[] | undefined) ?? []).length === 4,
    );
    expect(one.approvalSummary).toBe("1/2");
    const records = one.approvals as Record_[];
    // Creation times have whole seconds: the order among answers of one second is by name.
    const seen = records.map((r) => [r.approver, r.counted, r.reason ?? ""].join(":")).sort();
    expect(seen).toEqual([
      "alice:false:SelfApproval",
      "bob:false:Duplicate",
      "bob:true:",
      "eve:false:NotAnApprover",
    ]);
    expect(String(one.message)).toContain("eve: NotAnApprover");
    // Nothing open before the second approver, however long the operator had.
    expect(stack.allowsFor(JUMP_NSG, 22, source)).toEqual([]);
    const events = await stack.kubectlOk([
      "get",
      "events",
      "-n",
      stack.ns,
      "--field-selector",
      `involvedObject.name=${name}`,
      "-o",
      "json",
    ]);
    expect(events).toContain("ApprovalIgnored");

    const second = await answer(name, "dave", "Approve", ["sre"]);
    const approvedAt = Date.now();
    const active = await waitFor(name, "Active", (s) => s.phase === "Active", 60_000);
    expect(active.approvalSummary).toBe("2/2");
    expect(stack.allowsFor(JUMP_NSG, 22, source)).toHaveLength(1);
    // The grant's clock starts at approval, not at the request's creation.
    const approval = JSON.parse(
      await stack.kubectlOk(["get", "accessapproval", second, "-n", stack.ns, "-o", "json"]),
    ) as { metadata: { creationTimestamp: string } };
    expect(Date.parse(String(active.startTime))).toBeGreaterThanOrEqual(
      Date.parse(approval.metadata.creationTimestamp),
    );
    expect(Date.parse(String(active.startTime))).toBeLessThanOrEqual(approvedAt + 30_000);
    const cols = await stack.kubectlOk(["get", "ar", name, "-n", stack.ns]);
    expect(cols).toMatch(/APPROVALS/);
    expect(cols).toMatch(/2\/2/);
  });

  test("one eligible rejection denies, and nothing opens", async () => {
    await policy("reject", { approval: APPROVAL });
    const source = "203.0.113.8/32";
    const name = await stack.createRequest({ policyName: "reject", sourceAddressPrefix: source });
    await waitFor(name, "AwaitingApproval", (s) => s.reason === "AwaitingApproval");
    await answer(name, "bob", "Approve");
    await answer(name, "carol", "Reject");
    const denied = await waitFor(name, "Denied", (s) => s.phase === "Denied");
    expect(denied.reason).toBe("Rejected");
    expect(String(denied.message)).toContain("rejected by carol");
    expect(denied.startTime).toBeUndefined();
    expect(stack.allowsFor(JUMP_NSG, 22, source)).toEqual([]);
  });

  test("a non-approver's rejection is ignored with a reason", async () => {
    await policy("ignored-reject", { approval: APPROVAL });
    const name = await stack.createRequest({
      policyName: "ignored-reject",
      sourceAddressPrefix: "203.0.113.11/32",
    });
    await waitFor(name, "AwaitingApproval", (s) => s.reason === "AwaitingApproval");
    await answer(name, "eve", "Reject");
    const s = await waitFor(
      name,
      "eve's rejection seen",
      (x) => ((x.approvals as unknown[] | undefined) ?? []).length === 1,
    );
    expect(s.phase).toBe("Pending");
    expect((s.approvals as Record_[])[0]).toMatchObject({
      approver: "eve",
      counted: false,
      reason: "NotAnApprover",
    });
  });

  test("no answer in time: TimedOut, nothing opened", async () => {
    await policy("timeout", { approval: { ...APPROVAL, timeout: "PT10S" } });
    const source = "203.0.113.9/32";
    const name = await stack.createRequest({ policyName: "timeout", sourceAddressPrefix: source });
    await answer(name, "bob", "Approve");
    const out = await waitFor(name, "TimedOut", (s) => s.phase === "TimedOut", 45_000);
    expect(out.reason).toBe("ApprovalTimedOut");
    expect(out.approvalSummary).toBe("1/2");
    expect(out.startTime).toBeUndefined();
    expect(stack.allowsFor(JUMP_NSG, 22, source)).toEqual([]);
  });

  test("justification pattern: Denied naming the rule; a matching one goes on", async () => {
    await policy("ticket", { justification: { pattern: "^(INC|CHG)-[0-9]+", minLength: 8 } });
    const bad = await stack.createRequest({
      policyName: "ticket",
      justification: "restart stuck service",
      sourceAddressPrefix: "203.0.113.12/32",
    });
    const denied = await waitFor(bad, "Denied", (s) => s.phase === "Denied");
    expect(denied.reason).toBe("JustificationPatternMismatch");
    expect(String(denied.message)).toContain("^(INC|CHG)-[0-9]+");
    const short = await stack.createRequest({
      policyName: "ticket",
      justification: "INC-1",
      sourceAddressPrefix: "203.0.113.13/32",
    });
    expect((await waitFor(short, "Denied", (s) => s.phase === "Denied")).reason).toBe(
      "JustificationTooShort",
    );
    const good = await stack.createRequest({
      policyName: "ticket",
      justification: "CHG-4242 deploy",
      sourceAddressPrefix: "203.0.113.14/32",
    });
    await waitFor(good, "Active", (s) => s.phase === "Active", 60_000);
  });

  test("with the approver admission policy: a forged approver or group is refused at admission", async () => {
    await policy("forged", { approval: APPROVAL });
    const name = await stack.createRequest({ policyName: "forged", sourceAddressPrefix: "203.0.113.15/32" });
    await stack.kubectlOk(["apply", "--server-side", "--field-manager=approvals-e2e", "-f", "-"], {
      input: yamlOf(guardObjects),
    });
    await stack.kubectlOk(["label", "namespace", stack.ns, `${label}=${run}`]);
    const r = await stack.getRequest(name);
    const forged = buildApprovalManifest({
      request: r as never,
      decision: "Approve",
      user: "carol",
      groups: [],
    });
    await eventually("the forged approver refused", async () => {
      const res = await stack.cluster.kubectl(["create", "-f", "-"], { as: "eve", input: stringify(forged) });
      return res.code !== 0 && res.stderr.includes("spec.approver must equal") ? true : undefined;
    });
    const group = buildApprovalManifest({
      request: r as never,
      decision: "Approve",
      user: "eve",
      groups: ["sre"],
    });
    const res = await stack.cluster.kubectl(["create", "-f", "-"], { as: "eve", input: stringify(group) });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("spec.approverGroups may list only groups you belong to");
    // The real thing passes.
    await answer(name, "bob", "Approve");
    await answer(name, "dave", "Approve", ["sre"]);
    await waitFor(name, "Active", (s) => s.phase === "Active", 60_000);
  });
});
