// The operator end to end (rule write mode): real kube-apiserver, the ARM emulator over HTTPS with
// the real Azure SDKs, the operator as a child process, and kubectl as alice where a user acts.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  ALL_NSGS,
  JUMP_NSG,
  NIC_NSG,
  SUBNET_NSG,
  Stack,
  destinationsOf,
  eventually,
  portsOf,
  sourcesOf,
} from "./harness.ts";
import type { Rule } from "./harness.ts";

const VM_NSGS = [NIC_NSG, SUBNET_NSG];
let stack: Stack;
let foreignBefore: Map<string, unknown[]>;

beforeAll(async () => {
  stack = await Stack.start("op-rule");
  foreignBefore = new Map(ALL_NSGS.map((id) => [id, withoutEtags(stack.foreign(id))]));
  stack.startOperator({ resyncInterval: "3s" });
  await stack.applyPolicy();
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

/** A rule's etag changes with every write to its NSG (as in Azure); its content must not. */
function withoutEtags(rules: Rule[]): unknown[] {
  return rules.map((r) => ({ ...r, etag: undefined }));
}

function denyRules(nsgId: string): Rule[] {
  return stack.managed(nsgId).filter((r) => r.properties.access === "Deny");
}

describe("drawbridge operator (rule write mode)", () => {
  it("writes the baseline deny into both NSGs of the VM, scoped to its IP, and into the NSG target", async () => {
    for (const id of VM_NSGS) {
      // The first wait covers the operator's start-up, which is slow on a loaded machine.
      const deny = await eventually(`baseline deny in ${id}`, () => denyRules(id)[0], 120_000);
      expect(destinationsOf(deny).map((d) => d.replace(/\/32$/, ""))).toEqual(["10.0.1.4"]);
      expect(sourcesOf(deny)).toEqual(["*"]);
      expect(portsOf(deny).sort()).toEqual(["22", "3389"]);
      expect(deny.properties.direction).toBe("Inbound");
      expect(deny.properties.priority).toBeGreaterThanOrEqual(100);
      expect(deny.properties.priority).toBeLessThanOrEqual(199);
    }
    const jump = await eventually("baseline deny in jump-nsg", () => denyRules(JUMP_NSG)[0]);
    expect(destinationsOf(jump)).toEqual(["10.0.2.4/32"]);
    const ready = await eventually("policy Ready", async () => {
      const out = await stack.kubectlOk(["get", "jitpolicy", "web-admin", "-n", stack.ns, "-o", "json"]);
      const p = JSON.parse(out) as { status?: { conditions?: { type: string; status: string }[] } };
      return p.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True");
    });
    expect(ready.status).toBe("True");
  }, 180_000);

  it("opens alice's request within seconds: Active, her prefix only, to the target's IP and port only", async () => {
    const started = Date.now();
    const name = await stack.createRequest();
    // The wait is longer than the promise, so a slow grant fails on the bound below, not on the wait.
    await eventually("request Active", async () => (await stack.phaseOf(name)) === "Active", 25_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const id of VM_NSGS) {
      const allow = stack.allowsFor(id, 22, "203.0.113.7/32");
      expect(allow).toHaveLength(1);
      expect(destinationsOf(allow[0]!).map((d) => d.replace(/\/32$/, ""))).toEqual(["10.0.1.4"]);
      expect(portsOf(allow[0]!)).toEqual(["22"]);
      expect(allow[0]!.properties.protocol).toBe("Tcp");
      const deny = denyRules(id)[0]!;
      expect(allow[0]!.properties.priority).toBeLessThan(deny.properties.priority);
    }
    expect(stack.allowsFor(JUMP_NSG, 22, "203.0.113.7/32")).toHaveLength(1);
    expect(stack.allowsFor(NIC_NSG, 3389, "203.0.113.7/32")).toHaveLength(0);
    const req = await stack.getRequest(name);
    const rules = req?.status?.rules as { networkSecurityGroupId: string; port: number }[];
    expect(rules.map((r) => r.networkSecurityGroupId.toLowerCase()).sort()).toEqual(
      ALL_NSGS.map((i) => i.toLowerCase()).sort(),
    );
    expect(rules.every((r) => r.port === 22)).toBe(true);
    expect(Date.parse(String(req?.status?.expiresAt)) - Date.parse(String(req?.status?.startTime))).toBe(
      3_600_000,
    );
  }, 30_000);

  it("expires a short request on time while another grant on the same port stays", async () => {
    const long = await stack.createRequest({ sourceAddressPrefix: "203.0.113.8/32" });
    const short = await stack.createRequest({ sourceAddressPrefix: "203.0.113.9/32", duration: "PT10S" });
    await eventually(
      "both Active",
      async () => (await stack.phaseOf(long)) === "Active" && (await stack.phaseOf(short)) === "Active",
    );
    expect(stack.allowsFor(NIC_NSG, 22, "203.0.113.9/32")).toHaveLength(1);
    const req = await stack.getRequest(short);
    const expiresAt = Date.parse(String(req?.status?.expiresAt));
    await eventually(
      "short grant gone",
      () => VM_NSGS.every((id) => stack.allowsFor(id, 22, "203.0.113.9/32").length === 0),
      20_000,
      50,
    );
    const goneAt = Date.now();
    expect(goneAt).toBeGreaterThanOrEqual(expiresAt);
    expect(goneAt - expiresAt).toBeLessThan(5_000);
    await eventually("short Expired", async () => (await stack.phaseOf(short)) === "Expired");
    for (const id of ALL_NSGS) expect(stack.allowsFor(id, 22, "203.0.113.8/32")).toHaveLength(1);
    expect(await stack.phaseOf(long)).toBe("Active");
  }, 40_000);

  it("revokes on revoked: true and on delete (the finalizer waits for the rules to go)", async () => {
    const a = await stack.createRequest({ sourceAddressPrefix: "203.0.113.20/32" });
    const b = await stack.createRequest({ sourceAddressPrefix: "203.0.113.21/32" });
    await eventually(
      "both Active",
      async () => (await stack.phaseOf(a)) === "Active" && (await stack.phaseOf(b)) === "Active",
    );
    await stack.kubectlOk(
      ["patch", "accessrequest", a, "-n", stack.ns, "--type=merge", "-p", '{"spec":{"revoked":true}}'],
      { as: "alice" },
    );
    await eventually("a Revoked", async () => (await stack.phaseOf(a)) === "Revoked");
    await eventually("a's rule gone", () =>
      ALL_NSGS.every((id) => stack.allowsFor(id, 22, "203.0.113.20/32").length === 0),
    );
    await stack.kubectlOk(["delete", "accessrequest", b, "-n", stack.ns, "--wait=true", "--timeout=20s"], {
      as: "alice",
    });
    // delete --wait returned: the finalizer was released, so the rule must already be gone.
    for (const id of ALL_NSGS) expect(stack.allowsFor(id, 22, "203.0.113.21/32")).toHaveLength(0);
    expect(await stack.getRequest(b)).toBeUndefined();
  }, 40_000);

  it("denies a request outside the policy with the reason and writes nothing to Azure", async () => {
    await eventually("NSGs quiet", async () => {
      const w = stack.emulator.stats().writes;
      await new Promise((r) => setTimeout(r, 1500));
      return stack.emulator.stats().writes === w;
    });
    const writes = stack.emulator.stats().writes;
    const name = await stack.createRequest({ sourceAddressPrefix: "198.51.100.7/32" });
    const req = await eventually("Denied", async () => {
      const r = await stack.getRequest(name);
      return r?.status?.phase === "Denied" ? r : undefined;
    });
    expect(String(req.status?.reason)).toMatch(/Source/i);
    expect(String(req.status?.message)).toContain("203.0.113.0/24");
    await new Promise((r) => setTimeout(r, 1000));
    expect(stack.emulator.stats().writes).toBe(writes);
    for (const id of ALL_NSGS) expect(stack.allowsFor(id, 22, "198.51.100.7/32")).toHaveLength(0);
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
    expect((JSON.parse(events) as { items: { reason: string }[] }).items.map((e) => e.reason)).toContain(
      "Denied",
    );
  }, 30_000);

  it("repairs drift by resync: a managed rule deleted or edited in Azure comes back", async () => {
    const name = await stack.createRequest({ sourceAddressPrefix: "203.0.113.30/32" });
    await eventually("Active", async () => (await stack.phaseOf(name)) === "Active");
    const allow = stack.allowsFor(SUBNET_NSG, 22, "203.0.113.30/32")[0]!;
    const deny = denyRules(NIC_NSG)[0]!;
    await stack.armDelete(SUBNET_NSG, allow.name);
    await stack.armPut(NIC_NSG, deny.name, {
      ...deny.properties,
      destinationPortRange: "1-65535",
      destinationPortRanges: [],
    });
    expect(stack.allowsFor(SUBNET_NSG, 22, "203.0.113.30/32")).toHaveLength(0);
    await eventually(
      "allow restored",
      () => stack.allowsFor(SUBNET_NSG, 22, "203.0.113.30/32").length === 1,
      15_000,
    );
    await eventually(
      "deny restored",
      () => portsOf(denyRules(NIC_NSG)[0]!).sort().join() === "22,3389",
      15_000,
    );
  }, 40_000);

  it("removes every managed rule when the policy is deleted, and foreign rules are untouched throughout", async () => {
    await stack.kubectlOk([
      "delete",
      "jitpolicy",
      "web-admin",
      "-n",
      stack.ns,
      "--wait=true",
      "--timeout=30s",
    ]);
    for (const id of ALL_NSGS) expect(stack.managed(id)).toEqual([]);
    for (const id of ALL_NSGS) expect(withoutEtags(stack.foreign(id))).toEqual(foreignBefore.get(id));
  }, 40_000);

  it("shuts down on SIGTERM with exit code 0", async () => {
    expect(await stack.operator!.stop()).toEqual({ code: 0, signal: null });
    expect(stack.operator!.logs()).toContain("shutdown complete");
  }, 30_000);
});
