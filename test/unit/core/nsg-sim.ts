// Test helpers: apply a plan to an observed NSG the way ARM would, and generators of small random
// NSGs, bindings and grants for the property tests.
import fc from "fast-check";
import type { PolicyPort, Protocol } from "../../../src/api/types.ts";
import { allowRuleName, denyRuleName } from "../../../src/core/index.ts";
import type { Grant, NsgPlan, ObservedNsg, PolicyBinding, SecurityRule } from "../../../src/core/index.ts";

/**
 * Applies DELETEs then PUTs by name as ARM does: names compare case-insensitively and a PUT onto an
 * existing rule keeps that rule's spelling. Refuses a PUT whose priority another rule of its
 * direction holds.
 */
export function applyOps(nsg: ObservedNsg, plan: NsgPlan): ObservedNsg {
  const rules = new Map(nsg.securityRules.map((r) => [r.name.toLowerCase(), r]));
  for (const put of plan.puts) {
    const key = put.name.toLowerCase();
    for (const [otherKey, other] of rules) {
      if (otherKey !== key && other.direction === put.direction && other.priority === put.priority) {
        throw new Error(`PUT ${put.name} collides with ${other.name} at priority ${put.priority}`);
      }
    }
  }
  for (const name of plan.deletes) rules.delete(name.toLowerCase());
  for (const put of plan.puts) {
    const key = put.name.toLowerCase();
    const had = rules.get(key);
    rules.set(key, had === undefined ? put : { ...put, name: had.name });
  }
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
  /** The instance the plan is made for ("" = the default instance). */
  instance: string;
}

/** Instance ids of the mixed scenarios: the default, two named ones, and one that never plans. */
export const INSTANCES = ["", "b", "zz9"];
const OWNERS = [...INSTANCES, "c"];

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
  /**
   * Plan for a random instance over an NSG that also holds rules named for the bindings by several
   * instances (the planning one's included), their names in lower, upper or title case.
   */
  instances?: boolean;
}

const casedArb = fc.constantFrom("lower", "upper", "title");

const instanceRuleArb = fc.record({
  owner: fc.constantFrom(...OWNERS),
  cased: casedArb,
  binding: fc.nat(),
  port: fc.nat(),
  deny: fc.boolean(),
  priority: fc.integer({ min: 100, max: 4096 }),
});

const H16 = "0123456789abcdef";

/** Names that start with an instance's prefix but that its planner could never have built. */
export function nearMissNames(head: string): string[] {
  return [
    `${head}admin-ssh`,
    `${head}x`,
    `${head}team-a-web-admin-${H16.slice(1)}-tcp-22`,
    `${head}team-a-web-admin-${H16}0-tcp-22`,
    `${head}team-a-web-admin-0123456789abcdeg-tcp-22`,
    `${head}team-a-web-admin-${H16}-tcp-65536`,
    `${head}team-a-web-admin-${H16}-tcp-022`,
    `${head}team-a-web-admin-${H16}-sctp-22`,
    `${head}team-a-web-admin-${H16}-deny-icmp`,
    `${head}team-a-web-admin-${H16}-deny`,
    `${head}-${H16}-tcp-22`,
    `${head}${"s".repeat(49)}-01234567-tcp-22`,
    `${head}team-a-1234567-deny-tcp`,
    `${head}team a-${H16}-tcp-22`,
  ];
}

function cased(name: string, how: string): string {
  if (how === "upper") return name.toUpperCase();
  if (how === "title") return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  return name;
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
      // The fifth pick narrows a grant of an Any port to what it was approved for (see grants.ts).
      grantPicks: fc.array(
        fc.tuple(
          fc.nat(),
          fc.nat(),
          fc.nat(),
          fc.constantFrom(...SOURCES),
          fc.constantFrom<Protocol>("Any", "TCP", "UDP"),
        ),
        { maxLength: 12 },
      ),
      instance: opts.instances === true ? fc.constantFrom(...INSTANCES) : fc.constant(""),
      instanceRules: opts.instances === true ? fc.array(instanceRuleArb, { maxLength: 8 }) : fc.constant([]),
      orphanOwner: opts.instances === true ? fc.constantFrom(...OWNERS) : fc.constant(""),
      orphanCase: opts.instances === true ? casedArb : fc.constant("lower"),
      nearMisses: fc.array(
        fc.record({ pick: fc.nat(), cased: casedArb, priority: fc.integer({ min: 100, max: 4096 }) }),
        { maxLength: 3 },
      ),
    })
    .map(
      ({
        policies,
        foreign,
        orphans,
        grantPicks,
        instance,
        instanceRules,
        orphanOwner,
        orphanCase,
        nearMisses,
      }) => {
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
        // ARM holds one rule per name in any letter case.
        const names = new Set<string>();
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
          const head = orphanOwner === "" ? "drawbridge-" : `drawbridge.${orphanOwner}-`;
          // Named as a planner builds names, for a policy no longer bound: half of them in the legacy
          // format of the 8-digit hash (both are own, and go as stale).
          const hash = i % 2 === 0 ? `${"0".repeat(15)}${i}` : `0000000${i}`;
          rules.push({
            name: cased(`${head}gone-policy-${i}-${hash}-tcp-22`, orphanCase),
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
        for (const r of instanceRules) {
          const b = bindings[r.binding % bindings.length];
          const entry = b?.ports[r.port % b.ports.length];
          if (b === undefined || entry === undefined || used.has(`Inbound${r.priority}`)) continue;
          const name = cased(
            r.deny
              ? denyRuleName(b.policyKey, b.targetId, entry.protocol, r.owner)
              : allowRuleName(b.policyKey, b.targetId, entry.protocol, entry.number, r.owner),
            r.cased,
          );
          if (names.has(name.toLowerCase())) continue;
          names.add(name.toLowerCase());
          used.add(`Inbound${r.priority}`);
          rules.push({
            name,
            priority: r.priority,
            direction: "Inbound",
            access: r.deny ? "Deny" : "Allow",
            protocol: entry.protocol === "UDP" ? "Udp" : entry.protocol === "TCP" ? "Tcp" : "*",
            description: `written by instance ${r.owner || "(default)"}`,
            sourceAddressPrefix: r.deny ? "*" : "203.0.113.7/32",
            sourcePortRange: "*",
            destinationAddressPrefixes: ["10.0.1.4/32"],
            destinationPortRange: String(entry.number),
          });
        }
        // Names that start like the planning instance's own but are none the planner could build: a
        // person's rules, which it must never rewrite or delete.
        const head = instance === "" ? "drawbridge-" : `drawbridge.${instance}-`;
        for (const m of nearMisses) {
          const misses = nearMissNames(head);
          const name = cased(misses[m.pick % misses.length] ?? "", m.cased);
          if (used.has(`Inbound${m.priority}`) || names.has(name.toLowerCase())) continue;
          used.add(`Inbound${m.priority}`);
          names.add(name.toLowerCase());
          rules.push({
            name,
            priority: m.priority,
            direction: "Inbound",
            access: "Allow",
            protocol: "Tcp",
            description: "written by a person",
            sourceAddressPrefix: "203.0.113.99/32",
            sourcePortRange: "*",
            destinationAddressPrefix: "10.0.1.4/32",
            destinationPortRange: "22",
          });
        }
        const grants: Grant[] = [];
        grantPicks.forEach(([b, port, req, sourcePrefix, approved]) => {
          const binding = bindings[b % bindings.length];
          if (binding === undefined) return;
          const entry = binding.ports[port % binding.ports.length];
          if (entry === undefined) return;
          grants.push({
            requestKey: `${binding.policyKey.split("/")[0] ?? ""}/req-${req % 5}`,
            policyKey: binding.policyKey,
            targetId: binding.targetId,
            port: entry.number,
            protocol: entry.protocol === "Any" ? approved : entry.protocol,
            sourcePrefix,
            expiresAt: new Date(1_800_000_000_000),
          });
        });
        return {
          nsg: { id: `${SUB}/Microsoft.Network/networkSecurityGroups/nsg-1`, securityRules: rules },
          bindings,
          grants,
          instance,
        };
      },
    );
}

/** The grants left once rejected ones are gone (the operator Denies their requests). */
export function withoutRejected(grants: Grant[], plan: NsgPlan): Grant[] {
  const rejected = new Set(plan.rejected.map((r) => r.grant));
  return grants.filter((g) => !rejected.has(g));
}

/** A hand edit of one managed rule: what an attacker with write access to the NSG would change. */
export type TamperKind = "access" | "ports" | "sources" | "destinations" | "protocol" | "direction" | "all";

export interface Tamper {
  /** Which of the planning instance's own rules (modulo their count). */
  rule: number;
  kind: TamperKind;
}

export const tamperArb: fc.Arbitrary<Tamper> = fc.record({
  rule: fc.nat(),
  kind: fc.constantFrom<TamperKind>(
    "access",
    "ports",
    "sources",
    "destinations",
    "protocol",
    "direction",
    "all",
  ),
});

/** One edit, each making the rule open more (or, for direction, move it where its priority is free). */
function edited(r: SecurityRule, kind: TamperKind): SecurityRule {
  const out: SecurityRule = { ...r };
  if (kind === "access" || kind === "all") out.access = "Allow";
  if (kind === "ports" || kind === "all") {
    delete out.destinationPortRanges;
    out.destinationPortRange = "*";
  }
  if (kind === "sources" || kind === "all") {
    delete out.sourceAddressPrefixes;
    out.sourceAddressPrefix = "*";
  }
  if (kind === "destinations" || kind === "all") {
    delete out.destinationAddressPrefixes;
    out.destinationAddressPrefix = "*";
  }
  if (kind === "protocol" || kind === "all") out.protocol = "*";
  if (kind === "direction") out.direction = "Outbound";
  return out;
}

/**
 * The NSG after hand edits of the rules `own` picks out, and, when `intruder` is set, a foreign
 * Inbound Allow from anywhere placed inside the band of binding `intruder.binding` (which freezes
 * that policy). An edit that would give a rule a priority its new direction already holds is skipped.
 */
export function tampered(
  nsg: ObservedNsg,
  bindings: PolicyBinding[],
  own: (r: SecurityRule) => boolean,
  tampers: Tamper[],
  intruder: { binding: number; offset: number } | undefined,
): ObservedNsg {
  const rules = nsg.securityRules.slice();
  const mine = rules.map((r, i) => (own(r) ? i : -1)).filter((i) => i >= 0);
  const holds = (direction: string, priority: number, except: number): boolean =>
    rules.some((r, i) => i !== except && r.direction === direction && r.priority === priority);
  for (const t of tampers) {
    if (mine.length === 0) break;
    const i = mine[t.rule % mine.length] ?? -1;
    const r = rules[i];
    if (r === undefined) continue;
    const next = edited(r, t.kind);
    if (next.direction !== r.direction && holds(next.direction, next.priority, i)) continue;
    rules[i] = next;
  }
  const b = intruder === undefined ? undefined : bindings[intruder.binding % bindings.length];
  if (intruder !== undefined && b !== undefined) {
    const { from, to } = b.priorityRange;
    for (let k = 0; k <= to - from; k++) {
      const priority = from + ((intruder.offset + k) % (to - from + 1));
      if (holds("Inbound", priority, -1)) continue;
      rules.push({
        name: "intruder-allow-all",
        priority,
        direction: "Inbound",
        access: "Allow",
        protocol: "*",
        sourceAddressPrefix: "*",
        sourcePortRange: "*",
        destinationAddressPrefix: "*",
        destinationPortRange: "*",
      });
      break;
    }
  }
  return { ...nsg, securityRules: rules };
}

/**
 * Every policy's band holds the rules of all its bindings in this NSG (an allow per port and a deny
 * per protocol, each): then a stale rule of its own never keeps a needed rule out for a round.
 */
export function bandsFit(s: Scenario): boolean {
  const needed = new Map<string, number>();
  const size = new Map<string, number>();
  for (const b of s.bindings) {
    const n = b.ports.length + new Set(b.ports.map((p) => p.protocol)).size;
    needed.set(b.policyKey, (needed.get(b.policyKey) ?? 0) + n);
    size.set(b.policyKey, b.priorityRange.to - b.priorityRange.from + 1);
  }
  return [...needed].every(([k, n]) => n <= (size.get(k) ?? 0));
}
