// A planner memo (PlanInput.memo) never changes a plan: each plan made with one is compared with the
// same plan made without, across plans whose bindings change in place between them.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { PolicyPort } from "../../../src/api/types.ts";
import { newPlanMemo, planNsg } from "../../../src/core/index.ts";
import { scenarioArb } from "./nsg-sim.ts";
import type {
  Grant,
  NsgPlan,
  PlanInput,
  PlanMemo,
  PolicyBinding,
  SecurityRule,
} from "../../../src/core/index.ts";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers";
const vm = (name: string): string => `${SUB}/Microsoft.Compute/virtualMachines/${name}`;
const PORTS: PolicyPort[] = [
  { number: 22, protocol: "TCP", maxDuration: "PT3H" },
  { number: 53, protocol: "UDP", maxDuration: "PT3H" },
];

function binding(policyKey = "team-a/web-admin", targetId = vm("web-1")): PolicyBinding {
  return {
    policyKey,
    targetId,
    destinationPrefixes: ["10.0.1.4"],
    ports: PORTS,
    priorityRange: { from: 100, to: 199 },
  };
}

function grantsOf(b: PolicyBinding, expiresAt = "2026-11-25T13:00:00Z", sources = 2): Grant[] {
  const out: Grant[] = [];
  for (const port of b.ports) {
    for (let s = 0; s < sources; s++) {
      out.push({
        requestKey: `team-a/r-${s}`,
        policyKey: b.policyKey,
        targetId: b.targetId,
        port: port.number,
        protocol: port.protocol,
        sourcePrefix: `198.51.100.${s + 1}/32`,
        expiresAt: new Date(expiresAt),
      });
    }
  }
  return out;
}

/** The plan with `memo` after checking it equals the plan without one. */
function same(input: PlanInput, memo: PlanMemo): NsgPlan {
  const withMemo = planNsg({ ...input, memo });
  expect(JSON.stringify(withMemo)).toEqual(JSON.stringify(planNsg(input)));
  return withMemo;
}

/** The NSG as a read returns it after `plan` was written: fresh objects. */
function written(plan: NsgPlan): SecurityRule[] {
  return JSON.parse(JSON.stringify(plan.nsgBody)) as SecurityRule[];
}

const NSG_ID = `${SUB}/Microsoft.Network/networkSecurityGroups/web-nsg`;

describe("planner memo", () => {
  it("plans a converged NSG again to the same plan, unchanged", () => {
    const memo = newPlanMemo();
    const b = binding();
    const input: PlanInput = { nsg: { id: NSG_ID, securityRules: [] }, bindings: [b], grants: grantsOf(b) };
    const first = same(input, memo);
    const converged = { ...input, nsg: { id: NSG_ID, securityRules: written(first) } };
    for (let i = 0; i < 3; i++) expect(same(converged, memo).unchanged).toBe(true);
  });

  it("derives a binding's names again when its target id changes in place", () => {
    const memo = newPlanMemo();
    const b = binding();
    const first = same({ nsg: { id: NSG_ID, securityRules: [] }, bindings: [b], grants: grantsOf(b) }, memo);
    b.targetId = vm("web-2");
    const next = same(
      { nsg: { id: NSG_ID, securityRules: written(first) }, bindings: [b], grants: grantsOf(b) },
      memo,
    );
    // Every rule of web-1 goes, web-2's come: names and descriptions are web-2's.
    expect(next.deletes.length).toBe(first.desired.length);
    for (const r of next.puts) expect(r.description).toContain("target web-2");
  });

  it("derives a binding's names again when its policy key changes in place", () => {
    const memo = newPlanMemo();
    const b = binding();
    const first = same({ nsg: { id: NSG_ID, securityRules: [] }, bindings: [b], grants: grantsOf(b) }, memo);
    b.policyKey = "team-b/web-admin";
    const next = same(
      { nsg: { id: NSG_ID, securityRules: written(first) }, bindings: [b], grants: grantsOf(b) },
      memo,
    );
    for (const r of next.puts) expect(r.name.startsWith("drawbridge-team-b-web-admin-")).toBe(true);
  });

  it("derives a binding's destinations again when they change in place", () => {
    const memo = newPlanMemo();
    const b = binding();
    const first = same({ nsg: { id: NSG_ID, securityRules: [] }, bindings: [b], grants: grantsOf(b) }, memo);
    b.destinationPrefixes[0] = "10.0.1.5";
    const next = same(
      { nsg: { id: NSG_ID, securityRules: written(first) }, bindings: [b], grants: grantsOf(b) },
      memo,
    );
    expect(next.puts.length).toBe(first.desired.length);
    for (const r of next.puts) expect(r.destinationAddressPrefixes).toEqual(["10.0.1.5/32"]);
  });

  it("derives a binding's ports again when they change in place", () => {
    const memo = newPlanMemo();
    const b = { ...binding(), ports: PORTS.map((p) => ({ ...p })) };
    const first = same({ nsg: { id: NSG_ID, securityRules: [] }, bindings: [b], grants: grantsOf(b) }, memo);
    const udp = b.ports[1];
    if (udp !== undefined) udp.protocol = "TCP";
    const next = same(
      { nsg: { id: NSG_ID, securityRules: written(first) }, bindings: [b], grants: grantsOf(b) },
      memo,
    );
    // One TCP deny for both ports; the UDP deny and allow go.
    expect(next.desired.filter((r) => r.access === "Deny").map((r) => r.destinationPortRanges)).toEqual([
      ["22", "53"],
    ]);
    b.ports.push({ number: 80, protocol: "TCP", maxDuration: "PT1H" });
    same({ nsg: { id: NSG_ID, securityRules: written(next) }, bindings: [b], grants: grantsOf(b) }, memo);
  });

  it("writes a new expiry into the descriptions it keeps", () => {
    const memo = newPlanMemo();
    const b = binding();
    const first = same({ nsg: { id: NSG_ID, securityRules: [] }, bindings: [b], grants: grantsOf(b) }, memo);
    const later = grantsOf(b, "2026-11-25T15:30:00Z");
    const next = same(
      { nsg: { id: NSG_ID, securityRules: written(first) }, bindings: [b], grants: later },
      memo,
    );
    expect(next.puts.map((r) => r.description)).toEqual([
      expect.stringContaining("until 2026-11-25T15:30:00Z"),
      expect.stringContaining("until 2026-11-25T15:30:00Z"),
    ]);
    // And back: the description kept for the later expiry is not the earlier one's.
    const back = same(
      { nsg: { id: NSG_ID, securityRules: written(next) }, bindings: [b], grants: grantsOf(b) },
      memo,
    );
    expect(back.puts.every((r) => r.description?.includes("until 2026-11-25T13:00:00Z") === true)).toBe(true);
  });

  it("keeps descriptions apart by source count and by instance", () => {
    const memo = newPlanMemo();
    const b = binding();
    const one = same(
      { nsg: { id: NSG_ID, securityRules: [] }, bindings: [b], grants: grantsOf(b, undefined, 1) },
      memo,
    );
    same(
      { nsg: { id: NSG_ID, securityRules: written(one) }, bindings: [b], grants: grantsOf(b, undefined, 3) },
      memo,
    );
    const blue = same(
      { nsg: { id: NSG_ID, securityRules: [] }, bindings: [b], grants: grantsOf(b), instance: "blue" },
      memo,
    );
    for (const r of blue.puts) {
      expect(r.name.startsWith("drawbridge.blue-")).toBe(true);
      expect(r.description?.startsWith("drawbridge instance blue ")).toBe(true);
    }
    const back = same({ nsg: { id: NSG_ID, securityRules: [] }, bindings: [b], grants: grantsOf(b) }, memo);
    for (const r of back.puts) expect(r.description?.startsWith("drawbridge JIT ")).toBe(true);
  });

  it("plans random NSGs as without it, again after every binding changed in place", () => {
    const scenarios = scenarioArb({ orphanPriorities: { min: 100, max: 4096 }, instances: true });
    fc.assert(
      fc.property(scenarios, (s) => {
        const memo = newPlanMemo();
        const input: PlanInput = { nsg: s.nsg, bindings: s.bindings, grants: s.grants, instance: s.instance };
        const first = same(input, memo);
        same({ ...input, nsg: { ...s.nsg, securityRules: written(first) } }, memo);
        s.bindings.forEach((b, i) => {
          if (i % 2 === 0) b.targetId = b.targetId.toUpperCase();
          else b.destinationPrefixes.reverse();
          if (i % 3 === 0) b.ports = b.ports.slice(1);
        });
        same({ ...input, nsg: { ...s.nsg, securityRules: written(first) } }, memo);
      }),
      { numRuns: 300 },
    );
  });
});
