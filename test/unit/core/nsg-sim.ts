// Test helpers: apply a plan to an observed NSG the way ARM would, and generators of small random
// NSGs, bindings and grants for the property tests.
import fc from "fast-check";
import type { PolicyPort, Protocol } from "../../../src/api/types.ts";
import type { Grant, NsgPlan, ObservedNsg, PolicyBinding, SecurityRule } from "../../../src/core/index.ts";

/** Applies DELETEs then PUTs by name, refusing a PUT whose priority another rule of its direction holds. */
export function applyOps(nsg: ObservedNsg, plan: NsgPlan): ObservedNsg {
  const rules = new Map(nsg.securityRules.map((r) => [r.name, r]));
  for (const put of plan.puts) {
    for (const other of rules.values()) {
      if (other.name !== put.name && other.direction === put.direction && other.priority === put.priority) {
        throw new Error(`PUT ${put.name} collides with ${other.name} at priority ${put.priority}`);
      }
    }
  }
  for (const name of plan.deletes) rules.delete(name);
  for (const put of plan.puts) rules.set(put.name, put);
  return { ...nsg, securityRules: [...rules.values()] };
}

export const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers";
export const DESTS = ["10.0.1.4/32", "10.0.1.5/32", "10.0.2.0/24", "10.0.3.4/32"];
export const SOURCES = [
  "203.0.113.7/32",
  "203.0.113.8/32",
  "198.51.100.0/24",
  "192.0.2.1/32",
  "*",
  "Internet",
];

export interface Scenario {
  nsg: ObservedNsg;
  bindings: PolicyBinding[];
  grants: Grant[];
}

const policyArb = fc.record({
  ns: fc.constantFrom("team-a", "team-b", "a-very-long-namespace-name-that-goes-on-and-on-for-a-while"),
  name: fc.constantFrom("web-admin", "ops", "x".repeat(60)),
  from: fc.constantFrom(100, 120, 150, 200, 4000),
  size: fc.integer({ min: 2, max: 30 }),
  ports: fc.uniqueArray(fc.constantFrom(22, 80, 443, 3389), { minLength: 1, maxLength: 3 }),
  protocols: fc.array(fc.constantFrom<Protocol>("TCP", "UDP", "Any"), { minLength: 3, maxLength: 3 }),
  targets: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 2 }),
  dests: fc.array(fc.subarray(DESTS, { minLength: 1 }), { minLength: 2, maxLength: 2 }),
});

const foreignArb = fc.record({
  priority: fc.integer({ min: 100, max: 4096 }),
  direction: fc.constantFrom("Inbound" as const, "Outbound" as const),
  access: fc.constantFrom("Allow" as const, "Deny" as const),
  protocol: fc.constantFrom("Tcp" as const, "Udp" as const, "*" as const),
  dest: fc.constantFrom("*", "10.0.1.4/32", "10.0.0.0/16", "192.168.0.0/24", "VirtualNetwork"),
  ports: fc.constantFrom("*", "22", "20-30", "8080"),
});

export interface ScenarioOptions {
  /** Priority range orphaned managed rules may take. */
  orphanPriorities: { min: number; max: number };
}

export function scenarioArb(opts: ScenarioOptions): fc.Arbitrary<Scenario> {
  return fc
    .record({
      policies: fc.uniqueArray(policyArb, {
        minLength: 1,
        maxLength: 3,
        selector: (p) => `${p.ns}/${p.name}`,
      }),
      foreign: fc.array(foreignArb, { maxLength: 6 }),
      orphans: fc.array(fc.integer(opts.orphanPriorities), { maxLength: 3 }),
      grantPicks: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.constantFrom(...SOURCES)), {
        maxLength: 12,
      }),
    })
    .map(({ policies, foreign, orphans, grantPicks }) => {
      const bindings: PolicyBinding[] = [];
      for (const p of policies) {
        const ports: PolicyPort[] = p.ports.map((number, i) => ({
          number,
          protocol: p.protocols[i] ?? "TCP",
          maxDuration: "PT3H",
        }));
        p.targets.forEach((t, i) => {
          bindings.push({
            policyKey: `${p.ns}/${p.name}`,
            targetId: `${SUB}/Microsoft.Compute/virtualMachines/vm-${t}`,
            destinationPrefixes: p.dests[i] ?? ["10.0.1.4/32"],
            ports,
            priorityRange: { from: p.from, to: Math.min(4096, p.from + p.size) },
          });
        });
      }
      const rules: SecurityRule[] = [];
      const used = new Set<string>();
      foreign.forEach((f, i) => {
        if (used.has(`${f.direction}${f.priority}`)) return;
        used.add(`${f.direction}${f.priority}`);
        rules.push({
          name: `foreign-${i}`,
          priority: f.priority,
          direction: f.direction,
          access: f.access,
          protocol: f.protocol,
          sourceAddressPrefix: "*",
          sourcePortRange: "*",
          destinationAddressPrefix: f.dest,
          destinationPortRange: f.ports,
        });
      });
      orphans.forEach((priority, i) => {
        if (used.has(`Inbound${priority}`)) return;
        used.add(`Inbound${priority}`);
        rules.push({
          name: `drawbridge-gone-policy-${i}-tcp-22`,
          priority,
          direction: "Inbound",
          access: "Allow",
          protocol: "Tcp",
          sourceAddressPrefixes: ["203.0.113.9/32"],
          sourcePortRange: "*",
          destinationAddressPrefix: "10.0.1.4/32",
          destinationPortRange: "22",
        });
      });
      const grants: Grant[] = [];
      grantPicks.forEach(([b, port, req, sourcePrefix]) => {
        const binding = bindings[b % bindings.length];
        if (binding === undefined) return;
        const entry = binding.ports[port % binding.ports.length];
        if (entry === undefined) return;
        grants.push({
          requestKey: `${binding.policyKey.split("/")[0] ?? ""}/req-${req % 5}`,
          policyKey: binding.policyKey,
          targetId: binding.targetId,
          port: entry.number,
          protocol: entry.protocol,
          sourcePrefix,
          expiresAt: new Date(1_800_000_000_000),
        });
      });
      return {
        nsg: { id: `${SUB}/Microsoft.Network/networkSecurityGroups/nsg-1`, securityRules: rules },
        bindings,
        grants,
      };
    });
}

/** The grants left once rejected ones are gone (the operator Denies their requests). */
export function withoutRejected(grants: Grant[], plan: NsgPlan): Grant[] {
  const rejected = new Set(plan.rejected.map((r) => r.grant));
  return grants.filter((g) => !rejected.has(g));
}
