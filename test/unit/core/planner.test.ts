// Table-driven tests of planNsg on the example estate (web-1, band 100..199).
import { describe, expect, it } from "@jest/globals";
import type { PolicyPort } from "../../../src/api/types.ts";
import { allowRuleName, denyRuleName, planNsg } from "../../../src/core/index.ts";
import type { Grant, ObservedNsg, PolicyBinding, SecurityRule } from "../../../src/core/index.ts";
import { applyOps } from "./nsg-sim.ts";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers";
const VM = `${SUB}/Microsoft.Compute/virtualMachines/web-1`;
const KEY = "team-a/web-admin";
const PORTS: PolicyPort[] = [
  { number: 22, protocol: "TCP", allowedSourceAddressPrefixes: ["203.0.113.0/24"], maxDuration: "PT3H" },
  { number: 3389, protocol: "TCP", maxDuration: "PT1H" },
];
const BINDING: PolicyBinding = {
  policyKey: KEY,
  targetId: VM,
  destinationPrefixes: ["10.0.1.4"],
  ports: PORTS,
  priorityRange: { from: 100, to: 199 },
};
const ALLOW22 = allowRuleName(KEY, VM, "TCP", 22);
const DENY = denyRuleName(KEY, VM, "TCP");

function foreign(name: string, priority: number, extra: Partial<SecurityRule> = {}): SecurityRule {
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
    ...extra,
  };
}

function grant(source: string, port = 22, request = "alice-1"): Grant {
  return {
    requestKey: `team-a/${request}`,
    policyKey: KEY,
    targetId: VM,
    port,
    protocol: "TCP",
    sourcePrefix: source,
    expiresAt: new Date("2026-11-25T13:00:00Z"),
  };
}

function nsg(rules: SecurityRule[]): ObservedNsg {
  return { id: `${SUB}/Microsoft.Network/networkSecurityGroups/web-1-nic-nsg`, securityRules: rules };
}

function planned(rules: SecurityRule[], grants: Grant[], binding = BINDING): ReturnType<typeof planNsg> {
  return planNsg({ nsg: nsg(rules), bindings: [binding], grants });
}

describe("planNsg", () => {
  const httpsRule = foreign("allow-https", 300);

  it("writes a baseline deny at the top of the band and one allow per port at the bottom", () => {
    const p = planned([httpsRule], [grant("203.0.113.7/32"), grant("203.0.113.8/32", 22, "bob-1")]);
    expect(p.puts.map((r) => [r.name, r.access, r.priority])).toEqual([
      [DENY, "Deny", 199],
      [ALLOW22, "Allow", 100],
    ]);
    const allow = p.puts[1];
    expect(allow?.sourceAddressPrefixes).toEqual(["203.0.113.7/32", "203.0.113.8/32"]);
    expect(allow?.destinationAddressPrefixes).toEqual(["10.0.1.4/32"]);
    expect(p.puts[0]?.destinationPortRanges).toEqual(["22", "3389"]);
    expect(p.deletes).toEqual([]);
    expect(p.placements).toHaveLength(2);
  });

  it("writes only the baseline deny when no grant is active, and deletes the allow when the last grant lapses", () => {
    const first = planned([httpsRule], [grant("203.0.113.7/32")]);
    const applied = applyOps(nsg([httpsRule]), first);
    const lapsed = planNsg({ nsg: applied, bindings: [BINDING], grants: [] });
    expect(lapsed.puts).toEqual([]);
    expect(lapsed.deletes).toEqual([ALLOW22]);
    expect(lapsed.desired.map((r) => r.name)).toEqual([DENY]);
  });

  it("keeps a living rule's priority and repairs a hand-edited field", () => {
    const first = planned([], [grant("203.0.113.7/32")]);
    const applied = applyOps(nsg([]), first);
    const edited = applied.securityRules.map((r) =>
      r.name === ALLOW22 ? { ...r, priority: 150, sourceAddressPrefixes: ["0.0.0.0/0"] } : r,
    );
    const p = planned(edited, [grant("203.0.113.7/32")]);
    expect(p.puts).toHaveLength(1);
    expect(p.puts[0]?.priority).toBe(150);
    expect(p.puts[0]?.sourceAddressPrefixes).toEqual(["203.0.113.7/32"]);
  });

  it("deletes managed rules nobody wants any more (orphaned policy) and leaves foreign ones alone", () => {
    const orphan = { ...foreign("drawbridge-gone-1234abcd-tcp-22", 120), access: "Allow" as const };
    const p = planned([httpsRule, orphan, foreign("drawbridge_lookalike", 3000)], []);
    expect(p.deletes).toEqual(["drawbridge-gone-1234abcd-tcp-22"]);
    expect(p.nsgBody.filter((r) => !r.name.startsWith("drawbridge-"))).toEqual([
      httpsRule,
      foreign("drawbridge_lookalike", 3000),
    ]);
    expect(p.desired.every((r) => r.priority !== 120)).toBe(true);
  });

  it("reports a PriorityConflict and writes nothing new when a foreign rule sits in the band", () => {
    const intruder = foreign("allow-legacy", 150);
    const p = planned([intruder], [grant("203.0.113.7/32")]);
    expect(p.puts).toEqual([]);
    expect(p.conflicts).toEqual([
      expect.objectContaining({ policyKey: KEY, ruleName: "allow-legacy", priority: 150 }),
    ]);
    expect(p.conflicts[0]?.message).toContain("allow-legacy");
    expect(p.rejected.map((r) => r.reason)).toEqual(["PriorityConflict"]);
  });

  it("still narrows a conflicted policy's living allow when a grant lapses", () => {
    const first = planned([], [grant("203.0.113.7/32"), grant("203.0.113.8/32", 22, "bob-1")]);
    const applied = applyOps(nsg([]), first);
    const withIntruder = [...applied.securityRules, foreign("allow-legacy", 150)];
    const p = planned(withIntruder, [grant("203.0.113.8/32", 22, "bob-1")]);
    expect(p.puts.map((r) => [r.name, r.sourceAddressPrefixes])).toEqual([[ALLOW22, ["203.0.113.8/32"]]]);
    expect(p.deletes).toEqual([]);
  });

  it("restores a hand-edited baseline deny of a conflicted policy to its own content, in place", () => {
    const first = planned([], [grant("203.0.113.7/32")]);
    const applied = applyOps(nsg([]), first);
    const deny = applied.securityRules.find((r) => r.name === DENY);
    if (deny === undefined) throw new Error("no deny");
    const edited = applied.securityRules.map((r) =>
      r.name === DENY
        ? {
            ...r,
            access: "Allow" as const,
            destinationAddressPrefixes: undefined,
            destinationAddressPrefix: "*",
          }
        : r,
    );
    const intruder = foreign("allow-legacy", 150);
    const p = planned([...edited, intruder], [grant("203.0.113.7/32")]);
    expect(p.conflicts.map((c) => c.ruleName)).toEqual(["allow-legacy"]);
    expect(p.puts).toEqual([deny]);
    expect(p.deletes).toEqual([]);
    expect(p.nsgBody).toContain(intruder);
    // Moved to Outbound by hand: restored Inbound at the highest free priority of the band (199 is free
    // again among Inbound rules once the deny left them).
    const outbound = applied.securityRules.map((r) =>
      r.name === DENY ? { ...r, direction: "Outbound" as const, access: "Allow" as const } : r,
    );
    const moved = planned([...outbound, intruder], [grant("203.0.113.7/32")]);
    expect(moved.puts).toEqual([{ ...deny, priority: 199 }]);
  });

  it("keeps a grant approved for TCP on TCP when the policy widens the port to Any", () => {
    const widened = {
      ...BINDING,
      ports: [{ ...PORTS[0], protocol: "Any" as const }, PORTS[1]],
    } as PolicyBinding;
    const p = planned([], [grant("203.0.113.7/32")], widened);
    expect(
      p.desired.map((r) => [r.name, r.access, r.protocol, r.destinationPortRange ?? r.destinationPortRanges]),
    ).toEqual([
      [ALLOW22, "Allow", "Tcp", "22"],
      [DENY, "Deny", "Tcp", ["22", "3389"]],
      [denyRuleName(KEY, VM, "Any"), "Deny", "*", "22"],
    ]);
    expect(p.placements.map((x) => x.ruleName)).toEqual([ALLOW22]);
    // When the narrowed grant cannot be placed, its deny is not kept for it either.
    const tight = {
      ...widened,
      ports: [widened.ports[0]],
      priorityRange: { from: 100, to: 101 },
    } as PolicyBinding;
    const full = planned([], [grant("203.0.113.7/32")], tight);
    expect(full.rejected.map((r) => r.reason)).toEqual(["CapacityExceeded"]);
    expect(full.desired.map((r) => [r.name, r.priority])).toEqual([[denyRuleName(KEY, VM, "Any"), 101]]);
    // A UDP grant under a TCP-only port finds no slot: nothing opens.
    const udp = planned([], [{ ...grant("203.0.113.7/32"), protocol: "UDP" }]);
    expect(udp.desired.filter((r) => r.access === "Allow")).toEqual([]);
  });

  it("reports BaselineShadowed for a foreign allow ahead of the deny on a managed port", () => {
    const shadow = foreign("allow-ssh-anywhere", 90, {
      destinationAddressPrefix: "10.0.0.0/16",
      destinationPortRange: "20-30",
    });
    const p = planned(
      [
        shadow,
        foreign("allow-other-net", 95, {
          destinationAddressPrefix: "192.168.0.0/24",
          destinationPortRange: "22",
        }),
      ],
      [],
    );
    expect(p.shadowed.map((s) => [s.ruleName, s.port])).toEqual([["allow-ssh-anywhere", 22]]);
  });

  it("rejects grants with CapacityExceeded when the band is exhausted, never dropping them silently", () => {
    const tight = { ...BINDING, priorityRange: { from: 100, to: 102 } };
    const ports = [22, 3389];
    const grants = ports.map((port) => grant("203.0.113.7/32", port));
    const taken = planNsg({ nsg: nsg([]), bindings: [tight], grants });
    expect(taken.rejected).toEqual([]);
    const third = {
      ...tight,
      ports: [...PORTS, { number: 5985, protocol: "TCP" as const, maxDuration: "PT1H" }],
    };
    const p = planNsg({
      nsg: nsg([]),
      bindings: [third],
      grants: [...grants, grant("203.0.113.7/32", 5985)],
    });
    expect(p.rejected).toHaveLength(1);
    expect(p.rejected[0]?.reason).toBe("CapacityExceeded");
    expect(p.rejected[0]?.message).toMatch(/band exhausted/);
    expect(p.placements).toHaveLength(2);
  });

  it("rejects grants that would break the 4,000-prefix limit", () => {
    const big = foreign("allow-many", 300, {
      sourceAddressPrefix: undefined,
      sourceAddressPrefixes: Array.from({ length: 3995 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`),
    });
    const grants = Array.from({ length: 5 }, (_, i) => grant(`203.0.113.${i}/32`, 22, `r-${i}`));
    const p = planned([big], grants);
    expect(p.rejected.length).toBeGreaterThan(0);
    expect(p.rejected.every((r) => r.reason === "CapacityExceeded" && r.message.includes("4000"))).toBe(true);
    expect(p.placements.length + p.rejected.length).toBe(5);
  });

  it("rejects grants that would break the 1,000-rule limit", () => {
    const outbound = Array.from({ length: 999 }, (_, i) =>
      foreign(`out-${i}`, 100 + i, { direction: "Outbound" }),
    );
    const p = planned(outbound, [grant("203.0.113.7/32")]);
    expect(p.desired.map((r) => r.name)).toEqual([DENY]);
    expect(p.rejected.map((r) => r.message)).toEqual([expect.stringContaining("1000 security rules")]);
  });

  it("writes a wildcard source in the singular field Azure requires", () => {
    const p = planned([], [grant("*"), grant("203.0.113.7/32", 22, "bob-1")]);
    const allow = p.desired.find((r) => r.name === ALLOW22);
    expect(allow?.sourceAddressPrefix).toBe("*");
    expect(allow?.sourceAddressPrefixes).toBeUndefined();
  });
});
