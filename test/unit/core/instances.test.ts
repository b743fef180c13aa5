// Several drawbridge instances and several policies sharing one NSG: each instance owns only the
// rules of its own name prefix (any letter case), and two policies whose bands overlap are both
// frozen there with a PriorityConflict naming the other.
import { describe, expect, it } from "@jest/globals";
import type { PolicyPort } from "../../../src/api/types.ts";
import {
  allowRuleDescription,
  allowRuleName,
  denyRuleDescription,
  denyRuleName,
  isOwnRule,
  isValidRuleName,
  planNsg,
} from "../../../src/core/index.ts";
import type { Grant, ObservedNsg, PolicyBinding, SecurityRule } from "../../../src/core/index.ts";
import { applyOps } from "./nsg-sim.ts";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers";
const VM = `${SUB}/Microsoft.Compute/virtualMachines/web-1`;
const KEY = "team-a/web-admin";
const PORTS: PolicyPort[] = [{ number: 22, protocol: "TCP", maxDuration: "PT3H" }];

function binding(policyKey = KEY, from = 100, to = 199): PolicyBinding {
  return {
    policyKey,
    targetId: VM,
    destinationPrefixes: ["10.0.1.4"],
    ports: PORTS,
    priorityRange: { from, to },
  };
}

function grant(source: string, policyKey = KEY): Grant {
  return {
    requestKey: `${policyKey.split("/")[0] ?? ""}/r-${source}`,
    policyKey,
    targetId: VM,
    port: 22,
    protocol: "TCP",
    sourcePrefix: source,
    expiresAt: new Date("2030-01-01T00:00:00Z"),
  };
}

function nsg(rules: SecurityRule[]): ObservedNsg {
  return { id: `${SUB}/Microsoft.Network/networkSecurityGroups/web-1-nic-nsg`, securityRules: rules };
}

function foreign(name: string, priority: number): SecurityRule {
  return {
    name,
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    destinationPortRange: "443",
  };
}

describe("rule names per instance", () => {
  const long = `${"n".repeat(63)}/${"p.q-".repeat(63)}`;

  it("names the default instance's rules with a 42-character slug and a 64-bit hash; descriptions state the latest expiry", () => {
    expect(allowRuleName(KEY, VM, "TCP", 22)).toBe("drawbridge-team-a-web-admin-43fb1f2bf8e50b93-tcp-22");
    expect(allowRuleName(KEY, VM, "TCP", 22, "")).toBe("drawbridge-team-a-web-admin-43fb1f2bf8e50b93-tcp-22");
    expect(denyRuleName(KEY, VM, "Any")).toBe("drawbridge-team-a-web-admin-43fb1f2bf8e50b93-deny-any");
    expect(allowRuleName(long, VM, "Any", 65535)).toBe(
      "drawbridge-nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn-909ec64330b9f1ac-any-65535",
    );
    expect(denyRuleName(long, VM, "UDP")).toBe(
      "drawbridge-nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn-909ec64330b9f1ac-deny-udp",
    );
    expect(allowRuleDescription(KEY, VM, "TCP", 22, 3, new Date("2030-01-01T00:00:00Z"))).toBe(
      "drawbridge JIT allow 22/TCP until 2030-01-01T00:00:00Z, 3 source(s), policy team-a/web-admin, target web-1",
    );
    const p = planNsg({ nsg: nsg([]), bindings: [binding()], grants: [grant("203.0.113.7/32")] });
    expect(p.desired.map((r) => [r.name, r.description])).toEqual([
      [
        "drawbridge-team-a-web-admin-43fb1f2bf8e50b93-tcp-22",
        "drawbridge JIT allow 22/TCP until 2030-01-01T00:00:00Z, 1 source(s), policy team-a/web-admin, target web-1",
      ],
      [
        "drawbridge-team-a-web-admin-43fb1f2bf8e50b93-deny-tcp",
        "drawbridge JIT baseline deny TCP, policy team-a/web-admin, target web-1",
      ],
    ]);
  });

  it("prefixes a named instance's rules with drawbridge.<id>- and says so in the descriptions", () => {
    expect(allowRuleName(KEY, VM, "TCP", 22, "blue")).toBe(
      "drawbridge.blue-team-a-web-admin-43fb1f2bf8e50b93-tcp-22",
    );
    expect(denyRuleName(KEY, VM, "TCP", "blue")).toBe(
      "drawbridge.blue-team-a-web-admin-43fb1f2bf8e50b93-deny-tcp",
    );
    expect(allowRuleDescription(KEY, VM, "TCP", 22, 1, new Date("2030-01-01T00:00:00.001Z"), "blue")).toBe(
      "drawbridge instance blue JIT allow 22/TCP until 2030-01-01T00:00:01Z, 1 source(s), policy team-a/web-admin, target web-1",
    );
    const deny = denyRuleDescription(long, VM, "UDP", "abcdefghijkl");
    expect(deny.length).toBe(140);
    expect(deny.startsWith("drawbridge instance abcdefghijkl JIT baseline deny UDP, policy nnn")).toBe(true);
  });

  it("shortens the slug so that every name of every instance id stays within 80 characters", () => {
    for (const id of ["", "a", "ab", "abcdefghijk", "abcdefghijkl"]) {
      for (const name of [allowRuleName(long, VM, "Any", 65535, id), denyRuleName(long, VM, "UDP", id)]) {
        expect(name.length).toBeLessThanOrEqual(80);
        expect(isValidRuleName(name)).toBe(true);
        expect(isOwnRule({ name }, id)).toBe(true);
      }
    }
    expect(allowRuleName(long, VM, "Any", 65535, "abcdefghijkl")).toHaveLength(80);
  });

  it("refuses to plan for an invalid instance id", () => {
    expect(() => planNsg({ nsg: nsg([]), bindings: [binding()], grants: [], instance: "a-b" })).toThrow(
      /instance id "a-b" is invalid/,
    );
  });
});

describe("planNsg with several instances on one NSG", () => {
  const g = [grant("203.0.113.7/32")];

  it("leaves the default instance's rules and foreign rules alone when planning for a named instance", () => {
    const other = planNsg({ nsg: nsg([]), bindings: [binding(KEY, 300, 399)], grants: g }).desired;
    const observed = [foreign("allow-https", 1000), ...other];
    const p = planNsg({ nsg: nsg(observed), bindings: [binding()], grants: g, instance: "b" });
    expect(p.deletes).toEqual([]);
    expect(p.puts.map((r) => r.name)).toEqual([
      "drawbridge.b-team-a-web-admin-43fb1f2bf8e50b93-deny-tcp",
      "drawbridge.b-team-a-web-admin-43fb1f2bf8e50b93-tcp-22",
    ]);
    expect(p.nsgBody.slice(0, observed.length)).toEqual(observed);
    expect(p.conflicts).toEqual([]);
    // And back: the default instance keeps its rules and never deletes instance b's.
    const both = applyOps(nsg(observed), p);
    const again = planNsg({ nsg: both, bindings: [binding(KEY, 300, 399)], grants: g });
    expect(again.unchanged).toBe(true);
    const lapsed = planNsg({ nsg: both, bindings: [], grants: [] });
    expect(lapsed.deletes.sort()).toEqual(other.map((r) => r.name).sort());
  });

  it("treats another instance's rule inside the band as a foreign PriorityConflict", () => {
    const theirs = planNsg({ nsg: nsg([]), bindings: [binding()], grants: g, instance: "b" }).desired;
    const p = planNsg({ nsg: nsg(theirs), bindings: [binding(KEY, 150, 249)], grants: g });
    expect(p.puts).toEqual([]);
    expect(p.deletes).toEqual([]);
    expect(p.conflicts.map((c) => c.ruleName)).toEqual(
      theirs.filter((r) => r.priority >= 150).map((r) => r.name),
    );
    expect(p.rejected.map((r) => r.reason)).toEqual(["PriorityConflict"]);
  });

  it("counts another instance's rules against Azure's 1,000-rule limit", () => {
    const outbound = Array.from({ length: 999 }, (_, i) => ({
      ...foreign(`drawbridge.c-out-${i}`, 100 + i),
      direction: "Outbound" as const,
    }));
    const p = planNsg({ nsg: nsg(outbound), bindings: [binding()], grants: g, instance: "b" });
    expect(p.deletes).toEqual([]);
    expect(p.desired).toHaveLength(1);
    expect(p.rejected.map((r) => r.message)).toEqual([expect.stringContaining("1000 security rules")]);
  });

  it("keeps its own living rule renamed in another letter case instead of deleting and re-creating it", () => {
    const mine = planNsg({ nsg: nsg([]), bindings: [binding()], grants: g, instance: "b" }).desired;
    const shouted = mine.map((r) => ({ ...r, name: r.name.toUpperCase() }));
    const p = planNsg({ nsg: nsg(shouted), bindings: [binding()], grants: g, instance: "b" });
    expect(p.unchanged).toBe(true);
    expect(p.desired.map((r) => r.name)).toEqual(shouted.map((r) => r.name));
    // A lapsed grant closes under the name the rule has.
    const lapsed = planNsg({ nsg: nsg(shouted), bindings: [binding()], grants: [], instance: "b" });
    expect(lapsed.deletes).toEqual(["DRAWBRIDGE.B-TEAM-A-WEB-ADMIN-43FB1F2BF8E50B93-TCP-22"]);
    expect(lapsed.puts).toEqual([]);
  });

  it("deletes an orphan of its own in any letter case, and never another instance's orphan", () => {
    const orphan = (name: string): SecurityRule => ({ ...foreign(name, 120), access: "Allow" });
    const rules = [
      orphan("Drawbridge-gone-1234abcd-tcp-22"),
      { ...orphan("drawbridge.b-gone-1234abcd-tcp-22"), priority: 121 },
      { ...orphan("DRAWBRIDGE.C-gone-1234abcd-tcp-22"), priority: 122 },
    ];
    expect(planNsg({ nsg: nsg(rules), bindings: [], grants: [] }).deletes).toEqual([
      "Drawbridge-gone-1234abcd-tcp-22",
    ]);
    expect(planNsg({ nsg: nsg(rules), bindings: [], grants: [], instance: "b" }).deletes).toEqual([
      "drawbridge.b-gone-1234abcd-tcp-22",
    ]);
    expect(planNsg({ nsg: nsg(rules), bindings: [], grants: [], instance: "c" }).deletes).toEqual([
      "DRAWBRIDGE.C-gone-1234abcd-tcp-22",
    ]);
    expect(planNsg({ nsg: nsg(rules), bindings: [], grants: [], instance: "d" }).unchanged).toBe(true);
  });
});

describe("band overlap between policies in one NSG", () => {
  const A = "team-a/web-admin";
  const B = "team-b/db";
  /** B's binding for another address of the VM: its allows are not behind A's deny. */
  const otherAddress = (from: number, to: number): PolicyBinding => ({
    ...binding(B, from, to),
    destinationPrefixes: ["10.0.1.5"],
  });

  it("freezes both policies with a PriorityConflict naming the other policy and both bands", () => {
    const p = planNsg({
      nsg: nsg([]),
      bindings: [binding(A, 100, 199), binding(B, 150, 249)],
      grants: [grant("203.0.113.7/32", A), grant("203.0.113.8/32", B)],
    });
    expect(p.puts).toEqual([]);
    expect(p.desired).toEqual([]);
    expect(p.conflicts).toEqual([
      {
        policyKey: A,
        otherPolicyKey: B,
        ruleName: "",
        priority: 150,
        message:
          "priority band 100..199 of policy team-a/web-admin overlaps band 150..249 of policy team-b/db in NSG web-1-nic-nsg; neither policy writes new rules there",
      },
      {
        policyKey: B,
        otherPolicyKey: A,
        ruleName: "",
        priority: 150,
        message:
          "priority band 150..249 of policy team-b/db overlaps band 100..199 of policy team-a/web-admin in NSG web-1-nic-nsg; neither policy writes new rules there",
      },
    ]);
    expect(p.rejected.map((r) => [r.grant.policyKey, r.reason])).toEqual([
      [A, "PriorityConflict"],
      [B, "PriorityConflict"],
    ]);
    expect(p.rejected[0]?.message).toContain("team-b/db");
  });

  it("lets both policies write when their bands only touch", () => {
    const p = planNsg({
      nsg: nsg([]),
      bindings: [binding(A, 100, 199), otherAddress(200, 299)],
      grants: [grant("203.0.113.7/32", A), grant("203.0.113.8/32", B)],
    });
    expect(p.conflicts).toEqual([]);
    expect(p.desired).toHaveLength(4);
  });

  it("keeps the frozen policies' rules, narrows a lapsed grant, and never touches the other's rules", () => {
    const first = planNsg({
      nsg: nsg([]),
      bindings: [binding(A, 100, 199), otherAddress(200, 299)],
      grants: [grant("203.0.113.7/32", A), grant("203.0.113.9/32", A), grant("203.0.113.8/32", B)],
    });
    const observed = applyOps(nsg([]), first);
    // B's band now overlaps A's: both are frozen. A's grant from .9 lapses, B's grant stays.
    const p = planNsg({
      nsg: observed,
      bindings: [binding(A, 100, 199), otherAddress(190, 299)],
      grants: [grant("203.0.113.7/32", A), grant("203.0.113.8/32", B)],
    });
    expect(p.conflicts.map((c) => [c.policyKey, c.otherPolicyKey])).toEqual([
      [A, B],
      [B, A],
    ]);
    expect(p.deletes).toEqual([]);
    expect(p.puts.map((r) => [r.name, r.priority, r.sourceAddressPrefixes])).toEqual([
      [allowRuleName(A, VM, "TCP", 22), 100, ["203.0.113.7/32"]],
    ]);
    expect(p.rejected).toEqual([]);
    const ofB = (rules: SecurityRule[]): SecurityRule[] =>
      rules.filter((r) => r.name.startsWith("drawbridge-team-b")).sort((x, y) => x.priority - y.priority);
    expect(ofB(p.desired)).toEqual(ofB(observed.securityRules));
    // With every grant gone, each frozen policy removes its own allow and keeps its deny.
    const gone = planNsg({
      nsg: observed,
      bindings: [binding(A, 100, 199), otherAddress(190, 299)],
      grants: [],
    });
    expect(gone.deletes.sort()).toEqual(
      [allowRuleName(A, VM, "TCP", 22), allowRuleName(B, VM, "TCP", 22)].sort(),
    );
    expect(gone.puts).toEqual([]);
  });

  it("rejects a grant whose allow would sit behind another policy's deny of the same address and port", () => {
    const p = planNsg({
      nsg: nsg([]),
      bindings: [binding(A, 100, 199), binding(B, 200, 299)],
      grants: [grant("203.0.113.7/32", A), grant("203.0.113.8/32", B)],
    });
    expect(p.conflicts).toEqual([]);
    expect(p.placements.map((x) => x.grant.policyKey)).toEqual([A]);
    expect(p.rejected.map((r) => [r.grant.policyKey, r.reason])).toEqual([[B, "PriorityConflict"]]);
    expect(p.rejected[0]?.message).toBe(
      `the deny rule ${denyRuleName(A, VM, "TCP")} at priority 199 in NSG web-1-nic-nsg decides port 22/TCP of ` +
        "web-1 first, and band 200..299 of policy team-b/db has no free priority below it (an allow behind it " +
        "would open nothing)",
    );
    // Both baseline denies stay: B's port is closed either way.
    expect(p.desired.filter((r) => r.access === "Deny").map((r) => r.priority)).toEqual([199, 299]);
  });

  it("reports each overlapping pair once per policy, and ignores a policy overlapping itself", () => {
    const C = "team-c/ops";
    const vm2 = `${VM}-2`;
    const p = planNsg({
      nsg: nsg([]),
      bindings: [
        binding(A, 100, 199),
        { ...binding(A, 100, 199), targetId: vm2 },
        binding(B, 150, 249),
        binding(C, 240, 300),
      ],
      grants: [],
    });
    expect(p.conflicts.map((c) => `${c.policyKey}>${c.otherPolicyKey ?? ""}`).sort()).toEqual(
      [`${A}>${B}`, `${B}>${A}`, `${B}>${C}`, `${C}>${B}`].sort(),
    );
  });
});
