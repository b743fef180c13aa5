// Two operator instances on one NSG, end to end: the default instance watches the test's namespace,
// instance "b" (--instance-id=b) a second namespace; both policies target jump-nsg with disjoint
// bands. Each creates and removes only its own rules; the foreign rules and the other instance's
// rules stay as they were. A rule of an instance in an NSG no policy binds goes at the next resync.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { stringify } from "yaml";
import { aliceRbacYaml } from "../support/alice-rbac.ts";
import { scopeYaml } from "../support/scope.ts";
import { JUMP_NSG, SUB, SUBNET_NSG, Stack, eventually, sourcesOf } from "./harness.ts";
import type { Rule } from "./harness.ts";

let stack: Stack;
let nsB: string;

const FOREIGN = {
  direction: "Inbound",
  access: "Allow",
  protocol: "Tcp",
  sourceAddressPrefix: "10.9.0.0/16",
  sourcePortRange: "*",
  destinationAddressPrefix: "*",
  destinationPortRange: "8443",
  priority: 2500,
};

/** A rule's etag changes with every write to its NSG (as in Azure); its content must not. */
function withoutEtags(rules: Rule[]): unknown[] {
  return rules.map((r) => ({ ...r, etag: undefined }));
}

const isA = (r: Rule): boolean => r.name.toLowerCase().startsWith("drawbridge-");
const isB = (r: Rule): boolean => r.name.toLowerCase().startsWith("drawbridge.b-");
const foreignOf = (rules: Rule[]): Rule[] => rules.filter((r) => !isA(r) && !isB(r));

function policyIn(ns: string, from: number, to: number): string {
  return stack.policyYaml((doc) => {
    (doc.metadata as Record<string, unknown>).namespace = ns;
    const spec = doc.spec as Record<string, unknown>;
    spec.targets = [{ networkSecurityGroupId: JUMP_NSG, destinationAddressPrefixes: ["10.0.2.4/32"] }];
    spec.priorityRange = { from, to };
  });
}

/** As alice, a request for SSH from `source` in namespace `ns`; resolves to its name. */
async function request(ns: string, source: string): Promise<string> {
  const doc = {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { generateName: "alice-", namespace: ns },
    spec: {
      policyName: "web-admin",
      ports: [22],
      sourceAddressPrefix: source,
      duration: "PT1H",
      justification: "two instances",
      requester: "alice",
    },
  };
  const out = await stack.kubectlOk(["create", "-f", "-", "-o", "name"], {
    as: "alice",
    input: stringify(doc),
  });
  return out.trim().split("/").pop() ?? "";
}

async function phase(ns: string, name: string): Promise<string | undefined> {
  const r = await stack.cluster.kubectl([
    "get",
    "accessrequest",
    name,
    "-n",
    ns,
    "-o",
    "jsonpath={.status.phase}",
  ]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

function allowFrom(rules: Rule[], source: string): Rule[] {
  return rules.filter((r) => r.properties.access === "Allow" && sourcesOf(r).includes(source));
}

beforeAll(async () => {
  stack = await Stack.start("op-inst");
  nsB = await stack.cluster.createNamespace("op-inst-b");
  await stack.kubectlOk(["apply", "-f", "-"], { input: aliceRbacYaml(nsB) });
  await stack.kubectlOk(["apply", "-f", "-"], { input: scopeYaml(nsB, [nsB], [`/subscriptions/${SUB}`]) });
  await stack.armPut(JUMP_NSG, "team-x-https", FOREIGN);
  stack.startOperator({ resyncInterval: "3s" });
  stack.startOperator({ resyncInterval: "3s", extraArgs: [`--namespace=${nsB}`, "--instance-id=b"] });
  await stack.kubectlOk(["apply", "-f", "-"], { input: policyIn(stack.ns, 100, 199) });
  await stack.kubectlOk(["apply", "-f", "-"], { input: policyIn(nsB, 200, 299) });
}, 120_000);

afterAll(async () => {
  await stack.stop();
  await stack.cluster.kubectl(["delete", "jitscope", nsB, "--ignore-not-found", "--wait=false"]);
});

describe("two operator instances on one NSG", () => {
  it("each writes its own baseline deny within its band; the foreign rules stay as they were", async () => {
    const foreignBefore = withoutEtags(foreignOf(stack.rules(JUMP_NSG)));
    const denyA = await eventually(
      "instance A's deny",
      () => stack.rules(JUMP_NSG).find((r) => isA(r) && r.properties.access === "Deny"),
      120_000,
    );
    const denyB = await eventually(
      "instance b's deny",
      () => stack.rules(JUMP_NSG).find((r) => isB(r) && r.properties.access === "Deny"),
      60_000,
    );
    expect(denyA.properties.priority).toBe(199);
    expect(denyB.properties.priority).toBe(299);
    expect(denyB.properties.description).toContain("instance b");
    expect(withoutEtags(foreignOf(stack.rules(JUMP_NSG)))).toEqual(foreignBefore);
  }, 180_000);

  it("opens and closes a grant of each instance without touching the other's rules", async () => {
    const a = await request(stack.ns, "203.0.113.7/32");
    await eventually("A's request Active", async () => (await phase(stack.ns, a)) === "Active", 30_000);
    expect(allowFrom(stack.rules(JUMP_NSG), "203.0.113.7/32").map((r) => isA(r))).toEqual([true]);
    const b = await request(nsB, "203.0.113.8/32");
    await eventually("b's request Active", async () => (await phase(nsB, b)) === "Active", 30_000);
    expect(allowFrom(stack.rules(JUMP_NSG), "203.0.113.8/32").map((r) => isB(r))).toEqual([true]);
    const foreign = withoutEtags(foreignOf(stack.rules(JUMP_NSG)));
    const bRules = withoutEtags(stack.rules(JUMP_NSG).filter(isB));
    // A's grant is revoked: its allow goes; b's rules and the foreign ones stay identical.
    await stack.kubectlOk(["delete", "accessrequest", a, "-n", stack.ns, "--wait=false"]);
    await eventually(
      "A's allow gone",
      () => allowFrom(stack.rules(JUMP_NSG), "203.0.113.7/32").length === 0,
      30_000,
    );
    expect(withoutEtags(stack.rules(JUMP_NSG).filter(isB))).toEqual(bRules);
    expect(withoutEtags(foreignOf(stack.rules(JUMP_NSG)))).toEqual(foreign);
    // And the other way round.
    const aRules = withoutEtags(stack.rules(JUMP_NSG).filter(isA));
    await stack.kubectlOk(["delete", "accessrequest", b, "-n", nsB, "--wait=false"]);
    await eventually(
      "b's allow gone",
      () => allowFrom(stack.rules(JUMP_NSG), "203.0.113.8/32").length === 0,
      30_000,
    );
    expect(withoutEtags(stack.rules(JUMP_NSG).filter(isA))).toEqual(aRules);
    expect(withoutEtags(foreignOf(stack.rules(JUMP_NSG)))).toEqual(foreign);
  }, 90_000);

  // Instance b removes its orphan. The default instance here watches one namespace: other
  // single-namespace operators of the default instance write the same names, so it leaves rules it
  // cannot tell from theirs alone (removing their baseline deny would open a port).
  it("removes at resync a rule of its own in an NSG no policy binds, and only its own", async () => {
    const orphan = { ...FOREIGN, sourceAddressPrefix: "203.0.113.9/32", destinationPortRange: "22" };
    await stack.armPut(SUBNET_NSG, "drawbridge-gone-1234abcd-tcp-22", { ...orphan, priority: 3100 });
    await stack.armPut(SUBNET_NSG, "Drawbridge.B-gone-1234abcd-tcp-22", { ...orphan, priority: 3101 });
    await stack.armPut(SUBNET_NSG, "drawbridge.c-gone-1234abcd-tcp-22", { ...orphan, priority: 3102 });
    const others = withoutEtags(stack.rules(SUBNET_NSG).filter((r) => !isA(r) && !isB(r)));
    expect(stack.rules(SUBNET_NSG).filter((r) => isA(r) || isB(r))).toHaveLength(2);
    const defaultOrphan = withoutEtags(stack.rules(SUBNET_NSG).filter(isA));
    await eventually("instance b's orphan gone", () => stack.rules(SUBNET_NSG).every((r) => !isB(r)), 30_000);
    // Two more resyncs (every 3 s) later, the single-namespace default instance has left its own alone.
    await new Promise((r) => setTimeout(r, 7_000));
    expect(withoutEtags(stack.rules(SUBNET_NSG).filter(isA))).toEqual(defaultOrphan);
    expect(withoutEtags(stack.rules(SUBNET_NSG).filter((r) => !isA(r) && !isB(r)))).toEqual(others);
    expect(stack.rules(SUBNET_NSG).map((r) => r.name)).toContain("drawbridge.c-gone-1234abcd-tcp-22");
  }, 60_000);

  it("removes only its own rules when its policy goes", async () => {
    const foreign = withoutEtags(foreignOf(stack.rules(JUMP_NSG)));
    const bRules = withoutEtags(stack.rules(JUMP_NSG).filter(isB));
    expect(bRules).toHaveLength(1);
    await stack.kubectlOk(["delete", "jitpolicy", "web-admin", "-n", stack.ns, "--wait=false"]);
    await eventually("A's rules gone", () => stack.rules(JUMP_NSG).filter(isA).length === 0, 30_000);
    expect(withoutEtags(stack.rules(JUMP_NSG).filter(isB))).toEqual(bRules);
    expect(withoutEtags(foreignOf(stack.rules(JUMP_NSG)))).toEqual(foreign);
    await stack.kubectlOk(["delete", "jitpolicy", "web-admin", "-n", nsB, "--wait=false"]);
    await eventually("b's rules gone", () => stack.rules(JUMP_NSG).filter(isB).length === 0, 30_000);
    expect(withoutEtags(foreignOf(stack.rules(JUMP_NSG)))).toEqual(foreign);
  }, 90_000);
});
