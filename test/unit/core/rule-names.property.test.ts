// Property tests of rule names: names the planner could not have built are never touched, no two
// bindings ever share a name, and an estate named in the legacy format (8-digit hash) moves to the
// current names without any intermediate state letting more through than before.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { isOwnRule, planNsg } from "../../../src/core/index.ts";
import type { NsgPlan, ObservedNsg, SecurityRule } from "../../../src/core/index.ts";
import { bindingRulePrefix } from "../../../src/core/index.ts";
import { legacyRulePrefix } from "../../../src/core/legacy-names.ts";
import { LEGACY_NAME, ownGrammar, ownNameFormat } from "../../../src/core/rule-grammar.ts";
import { ruleDestinationPorts, ruleDestinations, ruleSources } from "../../../src/core/rules.ts";
import { applyOps, nearMissNames, scenarioArb, withoutRejected } from "./nsg-sim.ts";
import type { Scenario } from "./nsg-sim.ts";

const numRuns = process.env["CI"] ? 5000 : 500;
/** The migration walk evaluates every probe after every single write: fewer runs. */
const walkRuns = process.env["CI"] ? 1000 : 150;
const anywhere = scenarioArb({ orphanPriorities: { min: 100, max: 4096 } });
const mixed = scenarioArb({ orphanPriorities: { min: 100, max: 4096 }, instances: true });

function plan(s: Scenario, nsg: ObservedNsg = s.nsg, grants = s.grants): NsgPlan {
  return planNsg({ nsg, bindings: s.bindings, grants, instance: s.instance });
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

// --- An evaluator of Inbound traffic: the first rule by priority that matches decides. ---

function ip(text: string): number {
  return text.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function inPrefix(addr: string, prefix: string): boolean {
  if (prefix === "*" || prefix === "Any") return true;
  if (prefix === "Internet") return !inPrefix(addr, "10.0.0.0/8");
  if (prefix === "VirtualNetwork") return inPrefix(addr, "10.0.0.0/8");
  const [base = "", bits = "32"] = prefix.split("/");
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ip(addr) / size) === Math.floor(ip(base) / size);
}

function inPorts(port: number, ranges: string[]): boolean {
  return ranges.some((r) => {
    if (r === "*") return true;
    const [lo = "", hi = lo] = r.split("-");
    return port >= Number(lo) && port <= Number(hi);
  });
}

interface Probe {
  src: string;
  dst: string;
  port: number;
  protocol: "Tcp" | "Udp";
}

const PROBES: Probe[] = [];
for (const src of ["203.0.113.7", "198.51.100.9", "8.8.8.8", "10.9.9.9"]) {
  for (const dst of ["10.0.1.4", "10.0.1.5", "10.0.2.9", "10.0.3.4"]) {
    for (const port of [22, 80, 443, 3389]) {
      for (const protocol of ["Tcp", "Udp"] as const) PROBES.push({ src, dst, port, protocol });
    }
  }
}

function admits(rules: SecurityRule[], p: Probe): boolean {
  for (const r of rules) {
    if (r.protocol !== "*" && r.protocol !== p.protocol) continue;
    if (!ruleSources(r).some((s) => inPrefix(p.src, s))) continue;
    if (!ruleDestinations(r).some((d) => inPrefix(p.dst, d))) continue;
    if (!inPorts(p.port, ruleDestinationPorts(r))) continue;
    return r.access === "Allow";
  }
  return false;
}

/** The probes an NSG lets in. */
function openings(nsg: ObservedNsg): Set<number> {
  const inbound = nsg.securityRules
    .filter((r) => r.direction === "Inbound")
    .sort((a, b) => a.priority - b.priority);
  const out = new Set<number>();
  PROBES.forEach((p, i) => {
    if (admits(inbound, p)) out.add(i);
  });
  return out;
}

/** Applies the plan's PUTs one by one, then its DELETEs one by one, as the adapter does in rule mode. */
function* stepwise(nsg: ObservedNsg, p: NsgPlan): Generator<ObservedNsg> {
  let now = nsg;
  const none: NsgPlan = { ...p, puts: [], deletes: [] };
  for (const put of p.puts) {
    now = applyOps(now, { ...none, puts: [put] });
    yield now;
  }
  for (const name of p.deletes) {
    now = applyOps(now, { ...none, deletes: [name] });
    yield now;
  }
}

/** The scenario's estate as the planner of the 8-digit hash named it: every own rule renamed. */
function legacyEstate(s: Scenario, nsg: ObservedNsg): ObservedNsg {
  const prefixes = s.bindings.map((b) => [
    bindingRulePrefix(b.policyKey, b.targetId, s.instance).toLowerCase(),
    legacyRulePrefix(b.policyKey, b.targetId.toLowerCase(), s.instance),
  ]);
  const securityRules = nsg.securityRules.map((r) => {
    const lower = r.name.toLowerCase();
    const hit = prefixes.find(([now]) => now !== undefined && lower.startsWith(now));
    if (hit === undefined) return r;
    const [now = "", old = ""] = hit;
    return { ...r, name: `${old}${r.name.slice(now.length)}` };
  });
  return { ...nsg, securityRules };
}

describe("rule names", () => {
  it("never puts, deletes or drops a rule whose name only looks like an own one (Drawbridge-x, a near-miss of the grammar)", () => {
    fc.assert(
      fc.property(fc.oneof(anywhere, mixed), (s) => {
        const head = s.instance === "" ? "drawbridge-" : `drawbridge.${s.instance}-`;
        const misses = new Set(nearMissNames(head).map((n) => n.toLowerCase()));
        const p = plan(s);
        for (const put of p.puts) check(!misses.has(put.name.toLowerCase()), `PUT over ${put.name}`);
        for (const name of p.deletes) check(!misses.has(name.toLowerCase()), `DELETE of ${name}`);
        const after = applyOps(s.nsg, p).securityRules;
        for (const r of s.nsg.securityRules.filter((x) => misses.has(x.name.toLowerCase()))) {
          check(!isOwnRule(r, s.instance), `${r.name} read as own`);
          check(p.nsgBody.includes(r) && after.includes(r), `${r.name} changed`);
        }
      }),
      { numRuns },
    );
  });

  it("never gives one name to two rules of a plan, nor one binding's name to another", () => {
    fc.assert(
      fc.property(fc.oneof(anywhere, mixed), (s) => {
        const p = plan(s);
        const names = new Set<string>();
        for (const r of p.desired) {
          const lower = r.name.toLowerCase();
          check(!names.has(lower), `two desired rules named ${r.name}`);
          names.add(lower);
          const owners = s.bindings.filter((b) =>
            lower.startsWith(bindingRulePrefix(b.policyKey, b.targetId, s.instance).toLowerCase()),
          );
          const keys = new Set(owners.map((b) => `${b.policyKey}\n${b.targetId.toLowerCase()}`));
          check(keys.size <= 1, `${r.name} names ${keys.size} bindings`);
        }
        const puts = new Set(p.puts.map((r) => r.name.toLowerCase()));
        check(puts.size === p.puts.length, "two PUTs of one name");
      }),
      { numRuns },
    );
  });

  it("moves an estate of legacy names to the current ones, one free priority at a time, never letting in more than before at any step", () => {
    fc.assert(
      fc.property(fc.oneof(anywhere, mixed), (s) => {
        const first = plan(s);
        const grants = withoutRejected(s.grants, first);
        // The converged estate the previous version left, in its names.
        const once = applyOps(s.nsg, first);
        const settled = applyOps(once, plan(s, once, grants));
        const start = legacyEstate(s, settled);
        const before = openings(start);
        const grammar = ownGrammar(s.instance);
        let now = start;
        let converged = false;
        for (let round = 0; round < 10; round++) {
          const p = plan(s, now, grants);
          if (p.unchanged) {
            converged = true;
            break;
          }
          for (const step of stepwise(now, p)) {
            for (const i of openings(step)) check(before.has(i), `probe ${JSON.stringify(PROBES[i])} let in`);
            now = step;
          }
        }
        check(converged, "no convergence within 10 reconciles");
        // What stays in the legacy format is a deny whose replacement found no room, never an allow.
        for (const r of now.securityRules) {
          if (ownNameFormat(r.name, grammar) !== LEGACY_NAME) continue;
          check(r.access === "Deny", `legacy allow ${r.name} left`);
        }
      }),
      { numRuns: walkRuns },
    );
  });

  it("finishes the move when the band has room: no legacy name is left", () => {
    const roomy = scenarioArb({ orphanPriorities: { min: 4097 - 50, max: 4096 } });
    fc.assert(
      fc.property(roomy, (s) => {
        const p0 = plan(s);
        const grants = withoutRejected(s.grants, p0);
        const once = applyOps(s.nsg, p0);
        const settled = applyOps(once, plan(s, once, grants));
        const start = legacyEstate(s, settled);
        let now = start;
        for (let round = 0; round < 10; round++) now = applyOps(now, plan(s, now, grants));
        const p = plan(s, now, grants);
        expect(p.unchanged).toBe(true);
        const grammar = ownGrammar(s.instance);
        const left = now.securityRules.filter((r) => ownNameFormat(r.name, grammar) === LEGACY_NAME);
        // A legacy deny stays only while its band has no free priority for its replacement.
        for (const r of left) {
          const b = s.bindings.find((x) =>
            r.name
              .toLowerCase()
              .startsWith(legacyRulePrefix(x.policyKey, x.targetId.toLowerCase(), s.instance)),
          );
          check(b !== undefined, `legacy ${r.name} of no binding left`);
          if (b === undefined) continue;
          const taken = new Set(
            now.securityRules.filter((x) => x.direction === "Inbound").map((x) => x.priority),
          );
          let free = 0;
          for (let q = b.priorityRange.from; q <= b.priorityRange.to; q++) if (!taken.has(q)) free++;
          check(
            free === 0 || p.conflicts.some((c) => c.policyKey === b.policyKey),
            `legacy ${r.name} left with room`,
          );
        }
      }),
      { numRuns },
    );
  });
});
