// The operator counts approvals only where the approver admission policy guards the namespace:
// without it nobody vouches for spec.approver, so approvals are listed as ApproverNotBound and the
// request keeps waiting with nothing open; once the chart's policy and binding select the
// namespace, the same approvals count and the request opens.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { buildApprovalManifest } from "../../src/core/approval-manifest.ts";
import { ensureHelm } from "../../src/helm/build.ts";
import { renderChart } from "../../src/helm/template.ts";
import type { Manifest } from "../../src/helm/template.ts";
import { JUMP_NSG, Stack, eventually } from "./harness.ts";

jest.setTimeout(240_000);

// A letter first: hex such as "12e345" would read back from the rendered chart as a YAML number.
const run = `r${randomBytes(3).toString("hex")}`;
const requesterLabel = "drawbridge.dev/requester-guard-e2e";
const approverLabel = "drawbridge.dev/approver-guard-e2e";
let stack: Stack;
let requesterGuard: Manifest[] = [];
let approverGuard: Manifest[] = [];

function yamlOf(objects: unknown[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join("");
}

async function guardObjects(release: string, suffix: string, label: string): Promise<Manifest[]> {
  const helm = await ensureHelm({ env: process.env });
  const rendered = await renderChart(helm, {
    releaseName: `${release}-${run}`,
    namespace: stack.ns,
    // alice's test Role grants no "use" on policies; the requester binding is what matters here.
    values: {
      admissionPolicy: { requirePolicyUse: false, namespaceSelector: { matchLabels: { [label]: run } } },
    },
  });
  return rendered.filter(
    (m) => m.kind.startsWith("ValidatingAdmissionPolicy") && m.metadata.name.endsWith(suffix),
  );
}

beforeAll(async () => {
  stack = await Stack.start("approvals-guard");
  await stack.kubectlOk([
    "create",
    "role",
    "approver",
    "-n",
    stack.ns,
    "--verb=create,get",
    "--resource=accessapprovals.jit.drawbridge.dev",
  ]);
  await stack.kubectlOk([
    "create",
    "rolebinding",
    "approvers",
    "-n",
    stack.ns,
    "--role=approver",
    "--user=bob",
    "--user=admin",
  ]);
  requesterGuard = await guardObjects("ag-req", "-requester-is-caller", requesterLabel);
  approverGuard = await guardObjects("ag-appr", "-approver-is-caller", approverLabel);
  expect(requesterGuard).toHaveLength(2);
  expect(approverGuard).toHaveLength(2);
  // The requester guard holds from the start: only the approver guard is missing.
  await stack.kubectlOk(["apply", "--server-side", "--field-manager=ag-e2e", "-f", "-"], {
    input: yamlOf(requesterGuard),
  });
  await stack.kubectlOk(["label", "namespace", stack.ns, `${requesterLabel}=${run}`]);
  stack.startOperator({ guarded: true });
}, 1_800_000);

afterAll(async () => {
  await stack.stop();
  const all = [...requesterGuard, ...approverGuard];
  if (all.length > 0) {
    await stack.cluster.kubectl(["delete", "--ignore-not-found", "--wait=false", "-f", "-"], {
      input: yamlOf(all),
    });
  }
});

describe("the approver guard", () => {
  test("no approval counts until the approver admission policy guards the namespace", async () => {
    await stack.applyPolicy((doc) => {
      (doc.spec as Record<string, unknown>).approval = {
        required: 2,
        approvers: { users: ["bob", "admin"] },
      };
    });
    const source = "203.0.113.30/32";
    const name = await stack.createRequest({ sourceAddressPrefix: source });
    await eventually("AwaitingApproval", async () =>
      (await stack.getRequest(name))?.status?.reason === "AwaitingApproval" ? true : undefined,
    );
    const r = await stack.getRequest(name);
    for (const user of ["bob", "admin"]) {
      const m = buildApprovalManifest({ request: r as never, decision: "Approve", user, groups: [] });
      await stack.kubectlOk(["create", "-f", "-"], { as: user, input: stringify(m) });
    }
    const unbound = await eventually("both approvals seen, neither counted", async () => {
      const s = (await stack.getRequest(name))?.status;
      const list = (s?.approvals as { reason?: string }[] | undefined) ?? [];
      return list.length === 2 ? s : undefined;
    });
    expect((unbound.approvals as { reason?: string }[]).map((a) => a.reason)).toEqual([
      "ApproverNotBound",
      "ApproverNotBound",
    ]);
    expect(unbound.approvalSummary).toBe("0/2");
    expect(unbound.phase).toBe("Pending");
    expect(stack.allowsFor(JUMP_NSG, 22, source)).toEqual([]);

    await stack.kubectlOk(["apply", "--server-side", "--field-manager=ag-e2e", "-f", "-"], {
      input: yamlOf(approverGuard),
    });
    // Labelling the namespace makes the operator re-read both guards and look at waiting requests.
    await stack.kubectlOk(["label", "namespace", stack.ns, `${approverLabel}=${run}`]);
    await eventually(
      "Active",
      async () => ((await stack.phaseOf(name)) === "Active" ? true : undefined),
      60_000,
    );
    expect((await stack.getRequest(name))?.status?.approvalSummary).toBe("2/2");
    expect(stack.allowsFor(JUMP_NSG, 22, source)).toHaveLength(1);
  });
});
