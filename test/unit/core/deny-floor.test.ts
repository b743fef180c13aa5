// The deny an allow must stay below (src/core/deny-floor.ts), and the plans it shapes: an allow never
// takes a priority behind another deny of the plan that decides its traffic first.
import { describe, expect, it } from "@jest/globals";
import { denyFloor, denyFloorIndex } from "../../../src/core/deny-floor.ts";
import { denyRuleName, planNsg } from "../../../src/core/index.ts";
import type { Grant, PolicyBinding, SecurityRule } from "../../../src/core/index.ts";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers";
const KEY = "team-a/web-admin";
const vm = (n: number): string => `${SUB}/Microsoft.Compute/virtualMachines/vm-${n}`;

function deny(
  name: string,
  priority: number,
  dest: string,
  ports = "22",
  protocol: SecurityRule["protocol"] = "Tcp",
): SecurityRule {
  return {
    name,
    priority,
    direction: "Inbound",
    access: "Deny",
    protocol,
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefixes: [dest],
    destinationPortRange: ports,
  };
}

describe("denyFloor", () => {
  const index = denyFloorIndex([
    deny("host", 150, "10.0.1.4/32"),
    deny("low-host", 120, "10.0.1.4/32", "3389"),
    deny("wide", 180, "10.0.0.0/16", "20-30"),
    deny("udp", 110, "10.0.1.4/32", "22", "Udp"),
    deny("tag", 190, "VirtualNetwork", "*"),
  ]);

  it("finds the lowest deny of the same address, protocol and port", () => {
    expect(denyFloor(index, ["10.0.1.4/32"], "TCP", 22)?.name).toBe("host");
    expect(denyFloor(index, ["10.0.1.4/32"], "TCP", 3389)?.name).toBe("low-host");
    expect(denyFloor(index, ["10.0.1.4/32"], "UDP", 22)?.name).toBe("udp");
    expect(denyFloor(index, ["10.0.1.4/32"], "Any", 22)?.name).toBe("udp");
  });

  it("reads wider prefixes by overlap and a tag or wildcard as overlapping everything", () => {
    expect(denyFloor(index, ["10.0.9.9/32"], "TCP", 25)?.name).toBe("wide");
    expect(denyFloor(index, ["10.1.0.0/24"], "TCP", 25)?.name).toBe("tag");
    expect(denyFloor(index, ["10.0.3.0/24"], "TCP", 22)?.name).toBe("wide");
    expect(denyFloor(index, ["10.0.0.0/8"], "TCP", 22)?.name).toBe("host");
  });

  it("finds nothing for another port of every deny", () => {
    expect(denyFloor(denyFloorIndex([deny("host", 150, "10.0.1.4/32")]), ["10.0.1.4/32"], "TCP", 80)).toBe(
      undefined,
    );
  });
});

function binding(target: number, dest: string, from = 100, to = 103): PolicyBinding {
  return {
    policyKey: KEY,
    targetId: vm(target),
    destinationPrefixes: [dest],
    ports: [{ number: 22, protocol: "TCP", maxDuration: "PT3H" }],
    priorityRange: { from, to },
  };
}

function grant(target: number): Grant {
  return {
    requestKey: "team-a/req-0",
    policyKey: KEY,
    targetId: vm(target),
    port: 22,
    protocol: "TCP",
    sourcePrefix: "203.0.113.7/32",
    expiresAt: new Date("2030-01-01T00:00:00Z"),
  };
}

describe("two targets of one NSG sharing an address", () => {
  const nsgId = `${SUB}/Microsoft.Network/networkSecurityGroups/nsg-1`;
  // vm-0's living deny sits at the low end of the band (kept there: a rule keeps its priority).
  const living = deny(denyRuleName(KEY, vm(0), "TCP"), 100, "10.0.3.4/32");

  it("rejects the other target's grant when no priority is left below that deny", () => {
    const p = planNsg({
      nsg: { id: nsgId, securityRules: [living] },
      bindings: [binding(1, "10.0.3.4/32"), binding(0, "10.0.3.4/32")],
      grants: [grant(1)],
    });
    expect(p.placements).toEqual([]);
    expect(p.rejected.map((r) => r.reason)).toEqual(["PriorityConflict"]);
    expect(p.rejected[0]?.message).toContain(`the deny rule ${living.name} at priority 100`);
  });

  it("places the allow below that deny when the band has room there", () => {
    const p = planNsg({
      nsg: { id: nsgId, securityRules: [{ ...living, priority: 102 }] },
      bindings: [binding(1, "10.0.3.4/32", 100, 110), binding(0, "10.0.3.4/32", 100, 110)],
      grants: [grant(1)],
    });
    expect(p.rejected).toEqual([]);
    expect(p.placements.map((x) => x.priority)).toEqual([100]);
  });

  it("leaves an allow where it is when the addresses differ", () => {
    const p = planNsg({
      nsg: { id: nsgId, securityRules: [{ ...living, destinationAddressPrefixes: ["10.0.3.5/32"] }] },
      bindings: [binding(1, "10.0.3.4/32"), binding(0, "10.0.3.5/32")],
      grants: [grant(1)],
    });
    expect(p.rejected).toEqual([]);
    expect(p.placements.map((x) => x.priority)).toEqual([101]);
  });
});
