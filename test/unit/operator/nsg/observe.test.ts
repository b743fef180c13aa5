import { describe, expect, it } from "@jest/globals";
import type { NsgPlan, SecurityRule } from "../../../../src/core/index.ts";
import {
  FIRST_LOOK_MS,
  LOOK_GAP_MS,
  ObservePolls,
  observedRecord,
  observedResult,
} from "../../../../src/operator/nsg/observe.ts";
import type { NsgRecord } from "../../../../src/operator/state/ledger.ts";
import { nsgRecord } from "../fixtures.ts";

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
  return nsgRecord({ seq, policiesWithRules: new Set(policies), basis: { etag: "e", inputs: [] } });
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

  it("defers the first look after a wake, and keeps looks LOOK_GAP_MS apart while the owner writes", () => {
    const polls = new ObservePolls();
    expect(polls.defer("k", 0, false)).toBe(FIRST_LOOK_MS);
    expect(polls.defer("k", 300, false)).toBe(FIRST_LOOK_MS - 300); // another wake meanwhile
    expect(polls.defer("other", 300, false)).toBe(FIRST_LOOK_MS); // keys apart
    const t = FIRST_LOOK_MS;
    expect(polls.defer("k", t, false)).toBeUndefined(); // the deferred look
    expect(polls.next("k", false)).toBe(500);
    expect(polls.defer("k", t + 100, false)).toBe(LOOK_GAP_MS - 100); // a wake right after it
    expect(polls.defer("k", t + LOOK_GAP_MS, false)).toBeUndefined(); // the poll
    expect(polls.next("k", true)).toBeUndefined(); // as planned: polling stops
    expect(polls.defer("k", 60_000, false)).toBe(FIRST_LOOK_MS); // a new wake
    // A listed document costs no read: it never waits.
    expect(polls.defer("k", 60_100, true)).toBeUndefined();
  });
});
