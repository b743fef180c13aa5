// The expiry an allow rule's description carries (what `drawbridge sweep` reads): written by the
// planner as the latest expiry among the grants the rule carries, rounded up to the second, always
// readable within Azure's 140 characters, a pure function of the grants (a converged NSG stays
// converged), and read back strictly.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { planNsg } from "../../../src/core/index.ts";
import {
  allowDescriptionExpiry,
  allowDescriptionWith,
  allowRuleDescription,
  denyRuleDescription,
  expiryText,
} from "../../../src/core/names.ts";
import type { Grant, NsgPlan } from "../../../src/core/index.ts";
import { applyOps, bandsFit, scenarioArb, withoutRejected } from "./nsg-sim.ts";
import type { Scenario } from "./nsg-sim.ts";

const numRuns = process.env["CI"] ? 5000 : 500;
const VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-1";
const LONG_KEY = `${"n".repeat(63)}/${"p".repeat(253)}`;
const T = new Date("2026-12-03T10:15:00Z");

describe("expiryText", () => {
  it("writes UTC to the second, rounding up so a rule is never read as lapsed early", () => {
    expect(expiryText(T.getTime())).toBe("2026-12-03T10:15:00Z");
    expect(expiryText(T.getTime() + 1)).toBe("2026-12-03T10:15:01Z");
    expect(expiryText(T.getTime() + 999)).toBe("2026-12-03T10:15:01Z");
    expect(expiryText(Date.parse("2026-12-31T23:59:59.5Z"))).toBe("2027-01-01T00:00:00Z");
  });

  it("writes nothing for a time that is no date of years 0..9999", () => {
    for (const ms of [NaN, Infinity, -Infinity, 8.64e15 + 1, Date.parse("+010000-01-01T00:00:00Z")]) {
      expect(expiryText(ms)).toBe("");
    }
  });
});

describe("allow descriptions", () => {
  it("state the expiry right after port and protocol", () => {
    expect(allowRuleDescription("team-a/web", VM, "UDP", 53, 2, T)).toBe(
      "drawbridge JIT allow 53/UDP until 2026-12-03T10:15:00Z, 2 source(s), policy team-a/web, target web-1",
    );
  });

  it("keep the expiry readable when clipped to 140 characters, for every instance id length", () => {
    for (const instance of ["", "a", "abcdefghijkl"]) {
      const d = allowRuleDescription(LONG_KEY, VM, "Any", 65535, 4000, T, instance);
      expect(d).toHaveLength(140);
      expect(d.endsWith("...")).toBe(true);
      expect(allowDescriptionExpiry(d, instance)).toEqual(T);
    }
  });

  it("write no expiry when none is given, and such a description reads as no expiry", () => {
    const d = allowDescriptionWith(" source(s), policy p, target t", "TCP", 22, 1);
    expect(d).toBe("drawbridge JIT allow 22/TCP, 1 source(s), policy p, target t");
    expect(allowDescriptionExpiry(d)).toBeUndefined();
  });
});

describe("allowDescriptionExpiry", () => {
  const good = allowRuleDescription("team-a/web", VM, "TCP", 22, 1, T);

  it("reads what the planner writes, for the instance that wrote it only", () => {
    expect(allowDescriptionExpiry(good)).toEqual(T);
    expect(allowDescriptionExpiry(good, "blue")).toBeUndefined();
    const blue = allowRuleDescription("team-a/web", VM, "TCP", 22, 1, T, "blue");
    expect(allowDescriptionExpiry(blue, "blue")).toEqual(T);
    expect(allowDescriptionExpiry(blue)).toBeUndefined();
  });

  it.each([
    ["no description", undefined],
    ["empty", ""],
    ["a hand-written note", "SSH for the vendor until 2020-01-01T00:00:00Z"],
    ["a baseline deny", denyRuleDescription("team-a/web", VM, "TCP")],
    ["an older description without expiry", "drawbridge JIT allow 22/TCP, 1 source(s), policy p, target t"],
    ["another head", "Drawbridge JIT allow 22/TCP until 2026-12-03T10:15:00Z, 1 source(s)"],
    ["text before the expiry", "drawbridge JIT allow 22/TCP, x until 2026-12-03T10:15:00Z, 1 source(s)"],
    ["a bad protocol", "drawbridge JIT allow 22/ICMP until 2026-12-03T10:15:00Z, 1 source(s)"],
    ["milliseconds", "drawbridge JIT allow 22/TCP until 2026-12-03T10:15:00.000Z, 1 source(s)"],
    ["an offset", "drawbridge JIT allow 22/TCP until 2026-12-03T10:15:00+01:00, 1 source(s)"],
    ["no calendar day", "drawbridge JIT allow 22/TCP until 2026-02-30T10:15:00Z, 1 source(s)"],
    ["hour 24", "drawbridge JIT allow 22/TCP until 2026-12-03T24:00:00Z, 1 source(s)"],
    ["trailing digits", "drawbridge JIT allow 22/TCP until 2026-12-03T10:15:00Z9, 1 source(s)"],
  ])("refuses %s", (_what, description) => {
    expect(allowDescriptionExpiry(description)).toBeUndefined();
  });

  it("reads an expiry that ends the description", () => {
    expect(allowDescriptionExpiry("drawbridge JIT allow 22/TCP until 2026-12-03T10:15:00Z")).toEqual(T);
  });
});

// Random scenarios whose grants expire at distinct, sub-second times.
const scenarios = fc
  .tuple(
    scenarioArb({ orphanPriorities: { min: 4097 - 50, max: 4096 }, instances: true }),
    fc.array(fc.integer({ min: 0, max: 86_400_000 }), { minLength: 40, maxLength: 40 }),
  )
  .map(([s, offsets]): Scenario => {
    const grants = s.grants.map((g, i): Grant => ({
      ...g,
      expiresAt: new Date(1_800_000_000_000 + (offsets[i % 40] ?? 0) + i),
    }));
    return { ...s, grants };
  });

function plan(s: Scenario, nsg = s.nsg, grants = s.grants): NsgPlan {
  return planNsg({ nsg, bindings: s.bindings, grants, instance: s.instance });
}

describe("the planner's allow rules", () => {
  it("state the latest expiry among the grants each carries, rounded up to the second", () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        const p = plan(s);
        for (const r of p.desired.filter((d) => d.access === "Allow")) {
          const carried = p.placements.filter((x) => x.ruleName === r.name).map((x) => x.grant);
          expect(carried.length).toBeGreaterThan(0);
          const latest = Math.max(...carried.map((g) => g.expiresAt.getTime()));
          const stated = allowDescriptionExpiry(r.description, s.instance)?.getTime();
          expect(stated).toBe(Math.ceil(latest / 1000) * 1000);
          expect((r.description ?? "").length).toBeLessThanOrEqual(140);
        }
      }),
      { numRuns },
    );
  });

  it("yield no operations when planned again on their own result", () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        // As in planner.property.test.ts: a band too full for a policy's rules here takes two rounds.
        fc.pre(bandsFit(s));
        const p = plan(s);
        const grants = withoutRejected(s.grants, p);
        const again = plan(s, applyOps(s.nsg, p), grants);
        expect({ puts: again.puts, deletes: again.deletes }).toEqual({ puts: [], deletes: [] });
        expect(plan(s, { ...s.nsg, securityRules: p.nsgBody }, grants).unchanged).toBe(true);
      }),
      { numRuns },
    );
  });

  it("rewrite a rule when its latest expiry changes, and only its description", () => {
    const binding = {
      policyKey: "team-a/web",
      targetId: VM,
      destinationPrefixes: ["10.0.1.4"],
      ports: [{ number: 22, protocol: "TCP" as const, maxDuration: "PT3H" }],
      priorityRange: { from: 100, to: 199 },
    };
    const grant = (requestKey: string, iso: string): Grant => ({
      requestKey,
      policyKey: binding.policyKey,
      targetId: VM,
      port: 22,
      protocol: "TCP",
      sourcePrefix: "203.0.113.7/32",
      expiresAt: new Date(iso),
    });
    const nsg = {
      id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n",
    };
    const early = grant("team-a/r1", "2030-01-01T00:00:00Z");
    const late = grant("team-a/r2", "2030-01-01T01:00:00.250Z");
    const both = planNsg({ nsg: { ...nsg, securityRules: [] }, bindings: [binding], grants: [early, late] });
    const allow = both.desired.find((r) => r.access === "Allow");
    expect(allowDescriptionExpiry(allow?.description)?.toISOString()).toBe("2030-01-01T01:00:01.000Z");
    // The later request goes (revoked): same source, same rule, an earlier expiry.
    const after = planNsg({
      nsg: { ...nsg, securityRules: both.nsgBody },
      bindings: [binding],
      grants: [early],
    });
    expect(after.puts.map((r) => r.name)).toEqual([allow?.name]);
    const { description, ...rest } = after.puts[0] ?? { description: "" };
    const { description: _old, ...before } = allow ?? { description: "" };
    expect(rest).toEqual(before);
    expect(allowDescriptionExpiry(description)?.toISOString()).toBe("2030-01-01T00:00:00.000Z");
  });
});
