import { describe, expect, it } from "@jest/globals";
import type { NsgPlan, SecurityRule } from "../../../../src/core/index.ts";
import { ObservePolls, observedRecord, observedResult } from "../../../../src/operator/nsg/observe.ts";
import type { NsgRecord } from "../../../../src/operator/state/ledger.ts";

function rule(name: string): SecurityRule {
  return { name } as unknown as SecurityRule;
}

function placement(requestKey: string, ruleName: string): NsgPlan["placements"][number] {
  return {
    ruleName,
    priority: 150,
    grant: { requestKey, port: 22, protocol: "Tcp" },
  } as unknown as NsgPlan["placements"][number];
}

function plan(over: Partial<NsgPlan>): NsgPlan {
  return {
    desired: [],
    puts: [],
    deletes: [],
    nsgBody: [],
    conflicts: [],
    shadowed: [],
    rejected: [],
    placements: [],
    unchanged: true,
    ...over,
  };
}

function record(seq: number, policies: string[] = []): NsgRecord {
  return {
    seq,
    placements: new Map(),
    rejected: new Map(),
    failed: new Map(),
    conflicts: [],
    shadowed: [],
    error: undefined,
    lastWriteAt: undefined,
    policiesWithRules: new Set(policies),
    basis: { etag: "e", inputs: [] },
  };
}

describe("observe-only NSG reconciles", () => {
  it("counts a placement only once its rule is in the NSG (not among the plan's puts)", () => {
    const p = plan({
      unchanged: false,
      puts: [rule("DRAWBRIDGE-B")],
      placements: [placement("ns/a", "drawbridge-a"), placement("ns/b", "drawbridge-b")],
    });
    const r = observedResult(p);
    expect(r.writes).toBe(0);
    expect(r.refused.size).toBe(0);
    expect(r.plan.placements.map((x) => x.grant.requestKey)).toEqual(["ns/a"]);
  });

  it("keeps a converged plan as it is", () => {
    const p = plan({ placements: [placement("ns/a", "drawbridge-a")] });
    expect(observedResult(p).plan).toBe(p);
    const rec = record(7);
    expect(observedRecord(rec, record(3), p, [])).toBe(rec);
  });

  it("while the owner still writes: not 'reconciled since' for a finalizer wait, every policy keeps rules", () => {
    const p = plan({ unchanged: false, deletes: ["drawbridge-old"] });
    const binding = { policyKey: "ns/p" } as Parameters<typeof observedRecord>[3][number];
    const out = observedRecord(record(9), record(4), p, [binding]);
    expect(out.seq).toBe(4);
    expect(out.basis).toBeUndefined();
    expect([...out.policiesWithRules]).toEqual(["ns/p"]);
    expect(observedRecord(record(9), undefined, p, []).seq).toBe(0);
  });

  it("polls from 0.5 s doubling to 30 s while the NSG is not as planned, and stops once it is", () => {
    const polls = new ObservePolls();
    const waits = Array.from({ length: 9 }, () => polls.next("k", false));
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(polls.next("k", true)).toBeUndefined();
    expect(polls.next("k", false)).toBe(500);
  });
});
