// Tenancy, enforced by the operator itself (no admission policy runs here, as when a policy was
// admitted before its scope was narrowed, or the chart's admission policy is switched off): a
// namespace without a JitScope opens nothing; narrowing a scope closes the grants it no longer covers
// within one reconcile; a scope's ceilings refuse a wildcard source. Every case counts ARM writes.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { JUMP_NSG, NIC_NSG, SUBNET_NSG, SUB, Stack, VM_ID, eventually } from "./harness.ts";

jest.setTimeout(120_000);

let stack: Stack;

type Cond = { type: string; status: string; reason: string; message: string };

async function policyCondition(type: string): Promise<Cond | undefined> {
  const out = await stack.kubectlOk(["get", "jitpolicy", "web-admin", "-n", stack.ns, "-o", "json"]);
  const conditions = (JSON.parse(out) as { status?: { conditions?: Cond[] } }).status?.conditions ?? [];
  return conditions.find((c) => c.type === type);
}

function managedCount(): number {
  return [NIC_NSG, SUBNET_NSG, JUMP_NSG].reduce((n, id) => n + stack.managed(id).length, 0);
}

beforeAll(async () => {
  stack = await Stack.start("scope", { scope: false });
  stack.startOperator({ resyncInterval: "10m" });
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

describe("JitScope enforcement in the operator", () => {
  test("with no scope, the policy says why and nothing is written", async () => {
    const foreignBefore = [NIC_NSG, SUBNET_NSG, JUMP_NSG].map((id) => stack.foreign(id));
    await stack.applyPolicy();
    const c = await eventually("TargetsResolved=False", async () => {
      const cond = await policyCondition("TargetsResolved");
      return cond?.status === "False" ? cond : undefined;
    });
    expect(c.reason).toBe("OutOfScope");
    expect(c.message).toContain(`no JitScope binds namespace ${stack.ns}`);
    const name = await stack.createRequest();
    await eventually("Denied", async () => ((await stack.phaseOf(name)) === "Denied" ? true : undefined));
    const req = await stack.getRequest(name);
    expect(req?.status?.reason).toBe("OutOfScope");
    expect(managedCount()).toBe(0);
    expect([NIC_NSG, SUBNET_NSG, JUMP_NSG].map((id) => stack.foreign(id))).toEqual(foreignBefore);
  });

  test("a scope opens the namespace; narrowing it closes what it no longer covers in one reconcile", async () => {
    await stack.applyScope([`/subscriptions/${SUB}/resourceGroups/demo-rg`]);
    await eventually("Ready", async () =>
      (await policyCondition("Ready"))?.status === "True" ? true : undefined,
    );
    // The scope's status shows what it binds (the Bound column of `kubectl get jitscope -o wide`).
    const bound = await eventually("the scope's status", async () => {
      const out = await stack.kubectlOk(["get", "jitscope", stack.ns, "-o", "jsonpath={.status.namespaces}"]);
      return out.includes(stack.ns) ? out : undefined;
    });
    expect(JSON.parse(bound)).toEqual([stack.ns]);
    const name = await stack.createRequest();
    await eventually("Active", async () => ((await stack.phaseOf(name)) === "Active" ? true : undefined));
    expect(stack.allowsFor(NIC_NSG, 22, "203.0.113.7/32")).toHaveLength(1);
    expect(stack.allowsFor(JUMP_NSG, 22, "203.0.113.7/32")).toHaveLength(1);

    // Only jump-nsg stays in scope: the VM's NIC and subnet NSGs lose every managed rule.
    const narrowedAt = Date.now();
    await stack.applyScope([JUMP_NSG]);
    await eventually(
      "the VM's rules to go",
      () => stack.managed(NIC_NSG).length === 0 && stack.managed(SUBNET_NSG).length === 0,
      60_000,
    );
    const closedInMs = Date.now() - narrowedAt;
    expect(stack.allowsFor(JUMP_NSG, 22, "203.0.113.7/32")).toHaveLength(1);
    const c = await eventually("OutOfScope", async () => {
      const cond = await policyCondition("TargetsResolved");
      return cond?.reason === "OutOfScope" ? cond : undefined;
    });
    expect(c.message).toContain(VM_ID);
    expect(c.message).toContain(stack.ns);
    // One reconcile, not a resync (10 minutes here): the change itself wakes the NSGs. (A minute is
    // far from either, however loaded the machine.)
    expect(closedInMs).toBeLessThan(60_000);

    // A request naming the VM now is refused; one naming jump-nsg still works.
    const onVm = await stack.createRequest({ targets: [VM_ID] });
    await eventually("Denied", async () => ((await stack.phaseOf(onVm)) === "Denied" ? true : undefined));
    expect((await stack.getRequest(onVm))?.status?.reason).toBe("OutOfScope");

    // Removing the scope closes the rest, and the open request with it.
    await stack.deleteScope();
    await eventually("every managed rule to go", () => managedCount() === 0, 20_000);
    await eventually("Revoked", async () => ((await stack.phaseOf(name)) === "Revoked" ? true : undefined));
  });

  test("a scope ceiling refuses a wildcard source the policy allows", async () => {
    const writes = stack.emulator.writeLog().length;
    await stack.applyScope([`/subscriptions/${SUB}/resourceGroups/demo-rg`], {
      allowedSourceAddressPrefixes: ["203.0.113.0/24"],
    });
    await stack.applyPolicy((doc) => {
      const spec = doc.spec as { ports: Array<Record<string, unknown>> };
      spec.ports = [
        { number: 22, protocol: "TCP", allowedSourceAddressPrefixes: ["*"], maxDuration: "PT1H" },
      ];
    });
    const c = await eventually("OutOfScope for the wildcard", async () => {
      const cond = await policyCondition("TargetsResolved");
      return cond?.reason === "OutOfScope" && cond.message.includes("*") ? cond : undefined;
    });
    expect(c.message).toContain("allowedSourceAddressPrefixes");
    const name = await stack.createRequest({ sourceAddressPrefix: "*" });
    await eventually("Denied", async () => ((await stack.phaseOf(name)) === "Denied" ? true : undefined));
    expect(managedCount()).toBe(0);
    expect(stack.emulator.writeLog().length).toBe(writes);
  });
});
