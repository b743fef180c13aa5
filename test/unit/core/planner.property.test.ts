// Property tests of the NSG planner over random NSGs, policies and grant sets (DESIGN §6).
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  AZURE_LIMITS,
  bindingRulePrefix,
  isManagedRule,
  isValidRuleName,
  planNsg,
} from "../../../src/core/index.ts";
import {
  ruleDestinationPorts,
  ruleDestinations,
  rulePrefixCount,
  ruleSources,
} from "../../../src/core/index.ts";
import type { NsgPlan, SecurityRule } from "../../../src/core/index.ts";
import { applyOps, scenarioArb, withoutRejected } from "./nsg-sim.ts";
import type { Scenario } from "./nsg-sim.ts";

const numRuns = process.env["CI"] ? 10000 : 1000;
const anywhere = scenarioArb({ orphanPriorities: { min: 100, max: 4096 } });
const outsideBands = scenarioArb({ orphanPriorities: { min: 4097 - 50, max: 4096 } });

function plan(s: Scenario): NsgPlan {
  return planNsg({ nsg: s.nsg, bindings: s.bindings, grants: s.grants });
}

const prefixCache = new Map<string, string>();

function prefixOf(b: Scenario["bindings"][number]): string {
  const key = `${b.policyKey}\n${b.targetId}`;
  let prefix = prefixCache.get(key);
  if (prefix === undefined) {
    prefix = bindingRulePrefix(b.policyKey, b.targetId);
    prefixCache.set(key, prefix);
  }
  return prefix;
}

function bindingOf(s: Scenario, rule: SecurityRule): Scenario["bindings"][number] | undefined {
  return s.bindings.find((b) => rule.name.startsWith(prefixOf(b)));
}

/** A cheap assertion for hot loops (jest's expect is slow at 10,000 runs). */
function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

function foreignUntouched(s: Scenario, p: NsgPlan): void {
  const foreign = s.nsg.securityRules.filter((r) => !isManagedRule(r));
  for (const put of p.puts) check(isManagedRule(put), `PUT of foreign ${put.name}`);
  const foreignNames = new Set(foreign.map((r) => r.name));
  for (const name of p.deletes) check(!foreignNames.has(name), `DELETE of foreign ${name}`);
  expect(p.nsgBody.filter((r) => !isManagedRule(r))).toEqual(foreign);
  const applied = applyOps(s.nsg, p);
  for (const f of foreign) check(applied.securityRules.includes(f), `foreign ${f.name} changed`);
}

function prioritiesSound(s: Scenario, p: NsgPlan): void {
  const seen = new Set<string>();
  for (const r of p.nsgBody) {
    const key = `${r.direction}/${r.priority}`;
    check(!seen.has(key), `duplicate priority ${key}`);
    seen.add(key);
  }
  const frozen = new Set(p.conflicts.map((c) => c.policyKey));
  for (const r of p.desired) {
    const b = bindingOf(s, r);
    if (b === undefined) throw new Error(`desired rule ${r.name} has no binding`);
    if (frozen.has(b.policyKey)) continue;
    check(r.priority >= b.priorityRange.from && r.priority <= b.priorityRange.to, `${r.name} outside band`);
    if (r.access === "Allow") {
      const deny = p.desired.find(
        (d) => d.access === "Deny" && d.protocol === r.protocol && bindingOf(s, d) === b,
      );
      check(deny !== undefined && r.priority < deny.priority, `${r.name} not before its deny`);
    }
  }
}

function withinAzureLimits(_s: Scenario, p: NsgPlan): void {
  for (const r of p.desired) {
    check(isValidRuleName(r.name), `invalid name ${r.name}`);
    check((r.description ?? "").length <= AZURE_LIMITS.descriptionMax, `long description of ${r.name}`);
    check(
      r.sourceAddressPrefix === undefined || r.sourceAddressPrefixes === undefined,
      `${r.name} mixes fields`,
    );
  }
  expect(p.nsgBody.length).toBeLessThanOrEqual(AZURE_LIMITS.rulesPerNsg);
  const prefixes = p.nsgBody.reduce((n, r) => n + rulePrefixCount(r), 0);
  expect(prefixes).toBeLessThanOrEqual(AZURE_LIMITS.prefixesPerNsg);
}

function grantsOpenOnlyTheirOwn(s: Scenario, p: NsgPlan): void {
  for (const r of p.desired.filter((d) => d.access === "Allow")) {
    const b = bindingOf(s, r);
    if (b === undefined) throw new Error(`allow ${r.name} has no binding`);
    const ports = ruleDestinationPorts(r);
    check(ports.length === 1, `${r.name} opens ${ports.length} ports`);
    const port = Number(ports[0]);
    const mine = s.grants.filter(
      (g) => g.policyKey === b.policyKey && g.targetId === b.targetId && g.port === port,
    );
    const granted = new Set(mine.map((g) => (g.sourcePrefix === "Any" ? "*" : g.sourcePrefix)));
    for (const src of ruleSources(r)) check(granted.has(src), `${r.name} opens ungranted ${src}`);
    const dests = [...ruleDestinations(r)].sort().join();
    check(dests === [...b.destinationPrefixes].sort().join(), `${r.name} opens ${dests}`);
  }
  const placed = new Set(p.placements.map((x) => x.grant));
  const rejected = new Set(p.rejected.map((x) => x.grant));
  for (const g of s.grants) check(placed.has(g) !== rejected.has(g), `grant ${g.requestKey} lost or doubled`);
  for (const { grant, ruleName } of p.placements) {
    const rule = p.desired.find((r) => r.name === ruleName);
    const sources = rule === undefined ? [] : ruleSources(rule);
    check(sources.includes(grant.sourcePrefix) || sources.includes("*"), `placement of ${grant.requestKey}`);
  }
}

describe("planNsg properties", () => {
  it("keeps every safety invariant: foreign rules untouched, priorities unique and in band with allows before their deny, Azure limits, grants open only their own target, port and source", () => {
    fc.assert(
      fc.property(anywhere, (s) => {
        const p = plan(s);
        foreignUntouched(s, p);
        prioritiesSound(s, p);
        withinAzureLimits(s, p);
        grantsOpenOnlyTheirOwn(s, p);
      }),
      { numRuns },
    );
  });

  it("yields no operations when planned again on its own result (puts/deletes and whole body)", () => {
    fc.assert(
      fc.property(outsideBands, (s) => {
        const p = plan(s);
        const grants = withoutRejected(s.grants, p);
        const viaOps = planNsg({ nsg: applyOps(s.nsg, p), bindings: s.bindings, grants });
        expect({ puts: viaOps.puts, deletes: viaOps.deletes }).toEqual({ puts: [], deletes: [] });
        expect(viaOps.unchanged).toBe(true);
        expect(viaOps.rejected).toEqual([]);
        const viaBody = planNsg({
          nsg: { ...s.nsg, securityRules: p.nsgBody },
          bindings: s.bindings,
          grants,
        });
        expect(viaBody.unchanged).toBe(true);
      }),
      { numRuns },
    );
  });

  it("converges within two rounds when deleted orphans free band priorities", () => {
    fc.assert(
      fc.property(anywhere, (s) => {
        const p1 = plan(s);
        const g1 = withoutRejected(s.grants, p1);
        const n1 = applyOps(s.nsg, p1);
        const p2 = planNsg({ nsg: n1, bindings: s.bindings, grants: g1 });
        const g2 = withoutRejected(g1, p2);
        const p3 = planNsg({ nsg: applyOps(n1, p2), bindings: s.bindings, grants: g2 });
        expect(p3.unchanged).toBe(true);
      }),
      { numRuns },
    );
  });
});
