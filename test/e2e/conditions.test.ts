// Policy findings end to end: a foreign rule inside the band (PriorityConflict: that NSG is not
// written, requests are Denied), a foreign allow that takes precedence over the baseline
// (BaselineShadowed, for the policy whose band lies above it), and a band too small for the policy's
// rules (refused at admission, naming the field; the operator's own refusal is a unit test).
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { JUMP_NSG, NIC_NSG, SUBNET_NSG, Stack, eventually } from "./harness.ts";

let stack: Stack;

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}

async function conditions(policy: string): Promise<Cond[]> {
  const out = await stack.kubectlOk(["get", "jitpolicy", policy, "-n", stack.ns, "-o", "json"]);
  return (JSON.parse(out) as { status?: { conditions?: Cond[] } }).status?.conditions ?? [];
}

async function condition(policy: string, type: string, status: string): Promise<Cond | undefined> {
  return (await conditions(policy)).find((c) => c.type === type && c.status === status);
}

const RULE = { direction: "Inbound", sourcePortRange: "*", destinationAddressPrefix: "*" };

beforeAll(async () => {
  stack = await Stack.start("op-cond");
  await stack.armPut(NIC_NSG, "team-b-in-band", {
    ...RULE,
    priority: 150,
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: "10.9.0.0/16",
    destinationPortRange: "8080",
  });
  await stack.armPut(JUMP_NSG, "allow-ssh-anywhere", {
    ...RULE,
    priority: 150,
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: "*",
    destinationPortRange: "22",
  });
  stack.startOperator();
  await stack.applyPolicy();
  await stack.applyPolicy((doc) => {
    (doc.metadata as Record<string, unknown>).name = "tight";
    const spec = doc.spec as Record<string, unknown>;
    spec.targets = [{ networkSecurityGroupId: JUMP_NSG, destinationAddressPrefixes: ["10.0.2.5/32"] }];
    spec.priorityRange = { from: 200, to: 202 };
  });
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

describe("policy findings", () => {
  it("reports a foreign rule inside the band as PriorityConflict and leaves that NSG unwritten", async () => {
    const c = await eventually(
      "PriorityConflict naming the rule",
      async () => {
        const cond = await condition("web-admin", "PriorityConflict", "True");
        return cond?.message.includes("team-b-in-band") === true ? cond : undefined;
      },
      120_000,
    );
    expect(c.message).toContain("team-b-in-band");
    expect((await conditions("web-admin")).find((x) => x.type === "Ready")?.status).toBe("False");
    await eventually("subnet NSG baseline", () => stack.managed(SUBNET_NSG).length > 0);
    expect(stack.managed(NIC_NSG)).toEqual([]);
    const name = await stack.createRequest();
    const req = await eventually("request Denied", async () => {
      const r = await stack.getRequest(name);
      return r?.status?.phase === "Denied" ? r : undefined;
    });
    expect(req.status?.reason).toBe("PriorityConflict");
    expect(stack.managed(NIC_NSG)).toEqual([]);
  }, 180_000);

  it("reports a foreign allow ahead of the baseline as BaselineShadowed", async () => {
    const c = await eventually("BaselineShadowed", () => condition("tight", "BaselineShadowed", "True"));
    expect(c.message).toContain("allow-ssh-anywhere");
  }, 60_000);

  it("refuses at admission a policy whose band cannot hold its rules, naming the field", async () => {
    // Two TCP ports need two allow rules and one baseline deny: three priorities, not two.
    const input = stack.policyYaml((doc) => {
      (doc.metadata as Record<string, unknown>).name = "too-tight";
      const spec = doc.spec as Record<string, unknown>;
      spec.targets = [{ networkSecurityGroupId: JUMP_NSG, destinationAddressPrefixes: ["10.0.2.6/32"] }];
      spec.priorityRange = { from: 300, to: 301 };
    });
    const r = await stack.cluster.kubectl(["apply", "-f", "-"], { input });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.priorityRange");
    expect(r.stderr).toContain("too small");
    expect(await stack.cluster.kubectl(["get", "jitpolicy", "too-tight", "-n", stack.ns])).toMatchObject({
      code: 1,
    });
  }, 60_000);
});
