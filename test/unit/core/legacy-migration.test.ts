// The upgrade from names of the 8-digit hash: new rules first, old ones after (allows before denies),
// and a legacy deny stays while its replacement finds no free priority.
import { describe, expect, it } from "@jest/globals";
import { denyRuleName, allowRuleName, planNsg } from "../../../src/core/index.ts";
import type { Grant, ObservedNsg, PolicyBinding, SecurityRule } from "../../../src/core/index.ts";
import { legacyRulePrefix } from "../../../src/core/legacy-names.ts";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers";
const VM = `${SUB}/Microsoft.Compute/virtualMachines/web-1`;
const NSG = `${SUB}/Microsoft.Network/networkSecurityGroups/web-1-nic-nsg`;
const KEY = "team-a/web-admin";

function binding(from: number, to: number): PolicyBinding {
  return {
    policyKey: KEY,
    targetId: VM,
    destinationPrefixes: ["10.0.1.4/32"],
    ports: [{ number: 22, protocol: "TCP", maxDuration: "PT3H" }],
    priorityRange: { from, to },
  };
}

const GRANT: Grant = {
  requestKey: "team-a/req-1",
  policyKey: KEY,
  targetId: VM,
  port: 22,
  protocol: "TCP",
  sourcePrefix: "203.0.113.7/32",
  expiresAt: new Date("2030-01-01T00:00:00Z"),
};

/** The rules the previous version wrote for the binding at band 100..101, in its names. */
function legacyEstate(): SecurityRule[] {
  const planned = planNsg({
    nsg: { id: NSG, securityRules: [] },
    bindings: [binding(100, 101)],
    grants: [GRANT],
  });
  const now = `drawbridge-team-a-web-admin-`;
  const old = legacyRulePrefix(KEY, VM.toLowerCase(), "");
  expect(old).toBe("drawbridge-team-a-web-admin-8a9e00bf-");
  return planned.desired.map((r) => ({ ...r, name: `${old}${r.name.slice(now.length + 17)}` }));
}

function nsg(rules: SecurityRule[]): ObservedNsg {
  return { id: NSG, securityRules: rules };
}

describe("upgrade from legacy names", () => {
  it("puts the new deny and allow first, then deletes the old allow, then the old deny", () => {
    const old = legacyEstate();
    expect(old.map((r) => [r.name, r.priority])).toEqual([
      ["drawbridge-team-a-web-admin-8a9e00bf-tcp-22", 100],
      ["drawbridge-team-a-web-admin-8a9e00bf-deny-tcp", 101],
    ]);
    const p = planNsg({ nsg: nsg(old), bindings: [binding(100, 109)], grants: [GRANT] });
    expect(p.puts.map((r) => [r.name, r.priority])).toEqual([
      [denyRuleName(KEY, VM, "TCP"), 109],
      [allowRuleName(KEY, VM, "TCP", 22), 102],
    ]);
    expect(p.deletes).toEqual(old.map((r) => r.name));
    expect(p.rejected).toEqual([]);
  });

  it("keeps the old deny while the band has no room for the new one, closing the old allow; finishes next time", () => {
    const old = legacyEstate();
    const first = planNsg({ nsg: nsg(old), bindings: [binding(100, 101)], grants: [GRANT] });
    expect(first.puts).toEqual([]);
    expect(first.deletes).toEqual(["drawbridge-team-a-web-admin-8a9e00bf-tcp-22"]);
    expect(first.desired).toEqual([old[1]]);
    expect(first.rejected.map((r) => r.message)).toEqual([expect.stringMatching(/band exhausted/)]);
    const between = nsg([old[1] as SecurityRule]);
    const second = planNsg({ nsg: between, bindings: [binding(100, 101)], grants: [] });
    expect(second.puts.map((r) => [r.name, r.priority])).toEqual([[denyRuleName(KEY, VM, "TCP"), 100]]);
    expect(second.deletes).toEqual(["drawbridge-team-a-web-admin-8a9e00bf-deny-tcp"]);
  });
});
