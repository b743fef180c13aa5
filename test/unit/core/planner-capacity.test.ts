// planNsg at the edge of Azure's 4,000-prefix limit: a grant that does not fit is rejected with
// CapacityExceeded, never dropped silently, whatever its source (docs/api.md).
import { describe, expect, it } from "@jest/globals";
import type { PolicyPort } from "../../../src/api/types.ts";
import { AZURE_LIMITS, allowRuleName, planNsg } from "../../../src/core/index.ts";
import type { Grant, NsgPlan, ObservedNsg, PolicyBinding, SecurityRule } from "../../../src/core/index.ts";
import { applyOps } from "./nsg-sim.ts";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers";
const VM = `${SUB}/Microsoft.Compute/virtualMachines/web-1`;
const KEY = "team-a/web-admin";
const PORTS: PolicyPort[] = [
  { number: 22, protocol: "TCP", allowedSourceAddressPrefixes: ["Internet", "*"], maxDuration: "PT3H" },
];
const BINDING: PolicyBinding = {
  policyKey: KEY,
  targetId: VM,
  destinationPrefixes: ["10.0.1.4"],
  ports: PORTS,
  priorityRange: { from: 100, to: 199 },
};
const ALLOW22 = allowRuleName(KEY, VM, "TCP", 22);

function grant(source: string, request: string): Grant {
  return {
    requestKey: `team-a/${request}`,
    policyKey: KEY,
    targetId: VM,
    port: 22,
    protocol: "TCP",
    sourcePrefix: source,
    expiresAt: new Date("2026-11-25T13:00:00Z"),
  };
}

function nsg(rules: SecurityRule[]): ObservedNsg {
  return { id: `${SUB}/Microsoft.Network/networkSecurityGroups/web-1-nic-nsg`, securityRules: rules };
}

/** A foreign rule outside the band that spends `prefixes` of the NSG's address prefixes. */
function prefixHog(prefixes: number): SecurityRule {
  return {
    name: "allow-partners",
    priority: 300,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefixes: Array.from({ length: prefixes - 1 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`),
    sourcePortRange: "*",
    destinationAddressPrefix: "192.168.0.0/24",
    destinationPortRange: "443",
  };
}

/** The NSG after a first plan that opened port 22 to 203.0.113.7/32, plus the prefix hog. */
function livingWithHog(hogPrefixes: number): SecurityRule[] {
  const first = planNsg({ nsg: nsg([]), bindings: [BINDING], grants: [grant("203.0.113.7/32", "alice-1")] });
  expect(first.rejected).toEqual([]);
  return [prefixHog(hogPrefixes), ...applyOps(nsg([]), first).securityRules];
}

function outcome(p: NsgPlan, g: Grant): string[] {
  return [
    ...p.placements.filter((x) => x.grant === g).map((x) => `placed in ${x.ruleName}`),
    ...p.rejected.filter((x) => x.grant === g).map((x) => `${x.reason}: ${x.message}`),
  ];
}

describe("planNsg at the address-prefix limit", () => {
  // Left after the hog: the living deny ("*" and one destination) and the living allow's destination
  // take 3 prefixes; `spare` more are free for sources.
  const hogFor = (spare: number): number => AZURE_LIMITS.prefixesPerNsg - 3 - spare;

  it("rejects an Internet grant that no longer fits into a living allow that keeps no other source", () => {
    const internet = grant("Internet", "bob-1");
    const p = planNsg({ nsg: nsg(livingWithHog(hogFor(0))), bindings: [BINDING], grants: [internet] });
    expect(outcome(p, internet)).toEqual([
      expect.stringMatching(/^CapacityExceeded: .*4000 address prefixes/),
    ]);
    expect(p.desired.find((r) => r.name === ALLOW22)).toBeUndefined();
  });

  it("rejects an Internet grant that no longer fits next to a source the living allow keeps", () => {
    const kept = grant("203.0.113.7/32", "alice-1");
    const internet = grant("Internet", "bob-1");
    const p = planNsg({ nsg: nsg(livingWithHog(hogFor(1))), bindings: [BINDING], grants: [kept, internet] });
    expect(outcome(p, kept)).toEqual([`placed in ${ALLOW22}`]);
    expect(outcome(p, internet)).toEqual([
      expect.stringMatching(/^CapacityExceeded: .*4000 address prefixes/),
    ]);
    expect(p.desired.find((r) => r.name === ALLOW22)?.sourceAddressPrefixes).toEqual(["203.0.113.7/32"]);
  });

  it("rejects a '*' grant that no longer fits, as every other source", () => {
    const any = grant("*", "carol-1");
    const p = planNsg({ nsg: nsg(livingWithHog(hogFor(0))), bindings: [BINDING], grants: [any] });
    expect(outcome(p, any)).toEqual([expect.stringMatching(/^CapacityExceeded: .*4000 address prefixes/)]);
  });

  it("still rejects an Internet grant it must drop beside other prefixes, once, with that reason", () => {
    const other = grant("203.0.113.7/32", "alice-1");
    const internet = grant("Internet", "bob-1");
    const p = planNsg({ nsg: nsg([]), bindings: [BINDING], grants: [other, internet] });
    expect(outcome(p, other)).toEqual([`placed in ${ALLOW22}`]);
    expect(outcome(p, internet)).toEqual([
      expect.stringMatching(/^CapacityExceeded: .*Internet service tag/),
    ]);
  });
});
