// The approver's side of `kubectl drawbridge` end to end: the real kubectl runs the plugin as bob
// (a listed approver) and alice (the requester) against the real API server, emulator and operator,
// with the chart's approver admission policy in force. `pending` lists what waits for bob, `approve`
// opens a request needing one approval, `reject` denies another, and alice's own approval is refused
// before anything is created because it would not count.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { ensureHelm } from "../../src/helm/build.ts";
import { renderChart } from "../../src/helm/template.ts";
import type { Manifest } from "../../src/helm/template.ts";
import { PluginDir } from "./plugin.ts";
import type { Run } from "./plugin.ts";
import { JUMP_NSG, Stack, eventually } from "./harness.ts";

// A letter first: hex such as "12e345" would read back from the rendered chart as a YAML number.
const run = `r${randomBytes(3).toString("hex")}`;
const label = "drawbridge.dev/cli-approver-e2e";
let stack: Stack;
let plugin: PluginDir;
let guardObjects: Manifest[] = [];

/** `kubectl drawbridge <args> -n <ns>` as `user`, with the plugin directory first on PATH. */
function drawbridge(user: string, args: string[]): Promise<Run> {
  return plugin.kubectl(stack, user, ["drawbridge", ...args, "-n", stack.ns]);
}

/** The chart's people role for approvers, bound to alice and bob in the test namespace. */
function approverRbac(ns: string): string {
  const docs = [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "approver", namespace: ns },
      rules: [
        {
          apiGroups: ["jit.drawbridge.dev"],
          resources: ["accessapprovals"],
          verbs: ["create", "get", "list", "watch"],
        },
        {
          apiGroups: ["jit.drawbridge.dev"],
          resources: ["accessrequests", "jitpolicies"],
          verbs: ["get", "list", "watch"],
        },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "approvers", namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "approver" },
      subjects: ["alice", "bob"].map((name) => ({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "User",
        name,
      })),
    },
  ];
  return docs.map((d) => `---\n${stringify(d)}`).join("");
}

async function status(name: string): Promise<Record<string, unknown>> {
  return (await stack.getRequest(name))?.status ?? {};
}

async function awaiting(name: string): Promise<void> {
  await eventually(
    "AwaitingApproval",
    async () => (await status(name)).reason === "AwaitingApproval",
    60_000,
  );
}

async function approvalsIn(): Promise<{ spec: Record<string, unknown> }[]> {
  const out = await stack.kubectlOk(["get", "accessapprovals", "-n", stack.ns, "-o", "json"]);
  return (JSON.parse(out) as { items: { spec: Record<string, unknown> }[] }).items;
}

beforeAll(async () => {
  plugin = new PluginDir();
  stack = await Stack.start("cli-approvals");
  await stack.kubectlOk(["apply", "-f", "-"], { input: approverRbac(stack.ns) });
  const helm = await ensureHelm({ env: process.env });
  const rendered = await renderChart(helm, {
    releaseName: `cli-approvals-${run}`,
    namespace: stack.ns,
    values: { admissionPolicy: { namespaceSelector: { matchLabels: { [label]: run } } } },
  });
  guardObjects = rendered.filter(
    (m) => m.kind.startsWith("ValidatingAdmissionPolicy") && m.metadata.name.endsWith("-approver-is-caller"),
  );
  expect(guardObjects).toHaveLength(2);
  await stack.kubectlOk(["apply", "--server-side", "--field-manager=cli-approvals-e2e", "-f", "-"], {
    input: guardObjects.map((o) => `---\n${stringify(o)}`).join(""),
  });
  await stack.kubectlOk(["label", "namespace", stack.ns, `${label}=${run}`]);
  stack.startOperator();
  await stack.applyPolicy((doc) => {
    Object.assign(doc.spec as Record<string, unknown>, {
      approval: { required: 1, approvers: { users: ["bob"] } },
    });
  });
}, 1_800_000);

afterAll(async () => {
  await stack.stop();
  plugin.remove();
  if (guardObjects.length > 0) {
    await stack.cluster.kubectl(["delete", "--ignore-not-found", "--wait=false", "-f", "-"], {
      input: guardObjects.map((o) => `---\n${stringify(o)}`).join(""),
    });
  }
});

// Each step runs kubectl and a Node.js plugin process, slow on a loaded machine.
jest.setTimeout(90_000);

describe("kubectl drawbridge pending | approve | reject", () => {
  const source = "203.0.113.21/32";
  let opened = "";

  it("lists the approver's commands in --help", async () => {
    const help = await drawbridge("bob", ["--help"]);
    expect(help.code).toBe(0);
    for (const c of ["pending", "approve", "reject"]) expect(help.stdout).toContain(`\n  ${c} `);
  });

  it("pending lists for bob the request that needs his approval, and nothing for alice", async () => {
    opened = await stack.createRequest({ sourceAddressPrefix: source });
    await awaiting(opened);
    const bob = await drawbridge("bob", ["pending"]);
    expect({ code: bob.code, stderr: bob.stderr }).toMatchObject({ code: 0 });
    expect(bob.stdout).toMatch(/NAME\s+REQUESTER\s+POLICY/);
    expect(bob.stdout).toMatch(
      new RegExp(`${opened}\\s+alice\\s+web-admin\\s+22\\s+${source}\\s+PT1H\\s+0/1`),
    );
    const json = await drawbridge("bob", ["pending", "-o", "json"]);
    expect((JSON.parse(json.stdout) as { metadata: { name: string } }[]).map((r) => r.metadata.name)).toEqual(
      [opened],
    );
    const alice = await drawbridge("alice", ["pending"]);
    expect({ code: alice.code, stdout: alice.stdout }).toEqual({ code: 0, stdout: "" });
    expect(alice.stderr).toContain("nothing waits for alice's approval");
  });

  it("alice approving her own request is told it does not count, and nothing is created", async () => {
    const r = await drawbridge("alice", ["approve", opened]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 3, stdout: "" });
    expect(r.stderr).toContain(
      "your approval (alice) would not count: SelfApproval: the requester's own approval does not count",
    );
    expect(r.stderr).toContain("nothing was created");
    expect(await approvalsIn()).toEqual([]);
    expect((await status(opened)).phase).toBe("Pending");
  });

  it("bob approves: the request shows 1/1 and opens, the rule is in the emulator", async () => {
    const r = await drawbridge("bob", ["approve", opened, "--comment", "checked INC-4711"]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(r.stderr).toMatch(
      new RegExp(`accessapproval ${opened}-\\S+ created \\(Approve ${opened} as bob\\)`),
    );
    expect(r.stdout).toMatch(
      new RegExp(`^accessrequest ${opened}: (approved, opening|Active), approvals 1/1\\n$`),
    );
    const [approval] = await approvalsIn();
    expect(approval?.spec).toMatchObject({
      approver: "bob",
      decision: "Approve",
      comment: "checked INC-4711",
    });
    await eventually("Active", async () => (await status(opened)).phase === "Active", 60_000);
    expect(stack.allowsFor(JUMP_NSG, 22, source)).toHaveLength(1);
    // Answered and open: nothing waits any more, and a second answer is refused before creating.
    const after = await drawbridge("bob", ["pending"]);
    expect(after.stderr).toContain("nothing waits for bob's approval");
    const again = await drawbridge("bob", ["approve", opened]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`accessrequest ${opened} is Active (Granted), not waiting for approval`);
  });

  it("bob rejects another request: it is Denied and nothing opens", async () => {
    const other = "203.0.113.22/32";
    const name = await stack.createRequest({ sourceAddressPrefix: other });
    await awaiting(name);
    const r = await drawbridge("bob", ["reject", name, "--comment", "no change ticket"]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(r.stdout).toContain(`accessrequest ${name} rejected:`);
    expect(r.stdout).toContain("rejected by bob");
    const s = await status(name);
    expect(s).toMatchObject({ phase: "Denied", reason: "Rejected" });
    expect(s.startTime).toBeUndefined();
    expect(stack.allowsFor(JUMP_NSG, 22, other)).toEqual([]);
  });
});
