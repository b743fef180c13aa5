import { describe, expect, it } from "@jest/globals";
import { FakeClock } from "../../../../src/runtime/clock.ts";
import { decidePolicy } from "../../../../src/operator/policy/decision.ts";
import type { PolicyFacts } from "../../../../src/operator/policy/decision.ts";
import { JUMP_NSG, NIC_NSG, nsgRecord, policy } from "../fixtures.ts";

function facts(clock: FakeClock, over: Partial<PolicyFacts> = {}): PolicyFacts {
  return {
    policy: policy(),
    policyKey: "team-a/web-admin",
    now: clock.now(),
    resolution: { targets: [], problems: [] },
    outOfScope: [],
    records: [
      { nsgKey: NIC_NSG.toLowerCase(), nsgId: NIC_NSG, record: nsgRecord() },
      { nsgKey: JUMP_NSG.toLowerCase(), nsgId: JUMP_NSG, record: nsgRecord() },
    ],
    specIssues: [],
    ...over,
  };
}

function cond(
  d: ReturnType<typeof decidePolicy>,
  type: string,
): { status: string; reason: string; message: string } {
  const c = d.status.conditions?.find((x) => x.type === type);
  if (c === undefined) throw new Error(`no ${type}`);
  return c;
}

describe("decidePolicy", () => {
  it("reports targets outside the namespace's scopes as OutOfScope, before resolution problems", () => {
    const message = "target /x/vm is outside every JitScope bound to namespace team-b";
    const d = decidePolicy(
      facts(new FakeClock(), {
        outOfScope: [{ id: "/x/vm", message }],
        resolution: { targets: [], problems: ["/y/vm: not found"] },
      }),
    );
    expect(cond(d, "TargetsResolved")).toMatchObject({ status: "False", reason: "OutOfScope", message });
    expect(cond(d, "Ready")).toMatchObject({ status: "False", reason: "OutOfScope", message });
    expect(d.status.targets).toEqual([{ id: "/x/vm", message }]);
    expect(d.events.map((e) => [e.type, e.reason])).toEqual([
      ["Warning", "OutOfScope"],
      ["Warning", "OutOfScope"],
    ]);
  });

  it("is Ready when every target resolved and every NSG was reconciled without findings", () => {
    const d = decidePolicy(facts(new FakeClock()));
    expect(cond(d, "Ready").status).toBe("True");
    expect(cond(d, "TargetsResolved").status).toBe("True");
    expect(cond(d, "PriorityConflict").status).toBe("False");
    expect(cond(d, "BaselineShadowed").status).toBe("False");
    expect(d.status.observedGeneration).toBe(1);
    expect(d.events.map((e) => e.reason)).toEqual(["Reconciled"]);
  });

  it("reports only its own conflicts, names the rule, and is not Ready", () => {
    const conflicts = [
      {
        policyKey: "team-a/web-admin",
        ruleName: "x-in-band",
        priority: 150,
        message: "x-in-band sits in 100..199",
      },
      { policyKey: "team-b/other", ruleName: "y", priority: 120, message: "y sits in band of other" },
    ];
    const f = facts(new FakeClock());
    f.records[0]!.record = nsgRecord({ conflicts });
    const d = decidePolicy(f);
    expect(cond(d, "PriorityConflict")).toMatchObject({
      status: "True",
      message: "x-in-band sits in 100..199",
    });
    expect(cond(d, "Ready")).toMatchObject({ status: "False", reason: "PriorityConflict" });
    expect(d.events.find((e) => e.reason === "ForeignRuleInBand")?.type).toBe("Warning");
  });

  it("waits for NSGs not reconciled yet, and reports NSG errors and spec issues first", () => {
    const clock = new FakeClock();
    const pending = facts(clock);
    pending.records[1]!.record = undefined;
    expect(cond(decidePolicy(pending), "Ready")).toMatchObject({ status: "False", reason: "Reconciling" });
    const broken = facts(clock);
    broken.records[1]!.record = nsgRecord({ error: { reason: "NsgNotFound", message: "gone" } });
    expect(cond(decidePolicy(broken), "Ready")).toMatchObject({ status: "False", reason: "NsgError" });
    const invalid = facts(clock, { specIssues: ["PriorityBandTooSmall: too small"] });
    expect(cond(decidePolicy(invalid), "Ready")).toMatchObject({ status: "False", reason: "InvalidSpec" });
  });

  it("keeps lastTransitionTime and emits no event when nothing changed", () => {
    const clock = new FakeClock();
    const first = decidePolicy(facts(clock));
    clock.advance(60_000);
    const p = policy();
    p.status = first.status;
    const again = decidePolicy(facts(clock, { policy: p }));
    expect(again.status.conditions).toEqual(first.status.conditions);
    expect(again.events).toEqual([]);
  });

  it("marks unresolved targets", () => {
    const d = decidePolicy(
      facts(new FakeClock(), { resolution: { targets: [], problems: ["vm: not found"] } }),
    );
    expect(cond(d, "TargetsResolved")).toMatchObject({ status: "False", message: "vm: not found" });
    expect(cond(d, "Ready").reason).toBe("TargetsUnresolved");
  });
});
