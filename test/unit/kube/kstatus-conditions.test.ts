// Reconciling/Stalled as derived from the decided status: never both True, Stalled only for what a
// person must fix, and lastTransitionTime kept while a status holds.
import { describe, expect, test } from "@jest/globals";
import type { AccessRequestPhase, Condition } from "../../../src/api/types.ts";
import { withPolicyKstatus, withRequestKstatus } from "../../../src/kube/kstatus-conditions.ts";

const now = new Date("2026-01-01T00:00:00Z");
const ready = (status: "True" | "False", reason: string): Condition => ({
  type: "Ready",
  status,
  reason,
  message: "m",
  lastTransitionTime: now.toISOString(),
});

function flags(conditions: Condition[] | undefined): Record<string, string | undefined> {
  const of = (t: string): string | undefined => conditions?.find((c) => c.type === t)?.status;
  return { reconciling: of("Reconciling"), stalled: of("Stalled") };
}

describe("JitPolicy", () => {
  test.each([
    ["True", "Reconciled", "False", "False"],
    ["False", "Reconciling", "True", "False"],
    ["False", "NsgError", "True", "False"],
    ["False", "PriorityConflict", "False", "True"],
    ["False", "OutOfScope", "False", "True"],
    ["False", "TargetsUnresolved", "False", "True"],
    ["False", "InvalidSpec", "False", "True"],
    ["False", "RuleRefused", "False", "True"],
  ] as const)("Ready=%s %s -> Reconciling=%s Stalled=%s", (status, reason, reconciling, stalled) => {
    const out = withPolicyKstatus({ observedGeneration: 3, conditions: [ready(status, reason)] }, now, 3);
    expect(flags(out.conditions)).toEqual({ reconciling, stalled });
    expect(out.conditions?.find((c) => c.type === "Stalled")?.observedGeneration).toBe(3);
  });

  test("a condition that holds keeps its lastTransitionTime", () => {
    const first = withPolicyKstatus({ conditions: [ready("False", "PriorityConflict")] }, now, 1);
    const later = withPolicyKstatus(first, new Date("2026-01-02T00:00:00Z"), 1);
    expect(later.conditions).toEqual(first.conditions);
  });
});

describe("AccessRequest", () => {
  test.each([
    ["Pending", "True", "False"],
    ["Active", "False", "False"],
    ["Expired", "False", "False"],
    ["Revoked", "False", "False"],
    ["Denied", "False", "True"],
    ["Failed", "False", "True"],
    ["Superseded", "False", "False"],
    ["TimedOut", "False", "True"],
  ] as const)("%s -> Reconciling=%s Stalled=%s", (phase: AccessRequestPhase, reconciling, stalled) => {
    const out = withRequestKstatus({ phase, reason: "R", message: "m" }, now, 1);
    expect(flags(out.conditions)).toEqual({ reconciling, stalled });
  });
});
