import { describe, expect, it } from "@jest/globals";
import type { AccessRequestStatus, GrantRuleStatus } from "../../../../src/api/types.ts";
import { grantAtSend } from "../../../../src/operator/request/grant-at-send.ts";
import type { AtSendFacts } from "../../../../src/operator/request/grant-at-send.ts";
import { request } from "../fixtures.ts";

const DECIDED = Date.UTC(2026, 0, 1, 10);
const HOUR = 3_600_000;
const RULE: GrantRuleStatus = {
  networkSecurityGroupId:
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg",
  ruleName: "drawbridge-allow-tcp-22",
  priority: 100,
  port: 22,
  protocol: "TCP",
};

function approval(): AccessRequestStatus {
  const at = new Date(DECIDED).toISOString();
  return {
    phase: "Pending",
    startTime: at,
    expiresAt: new Date(DECIDED + HOUR).toISOString(),
    observedGeneration: 1,
    reason: "Approved",
    approvalSignature: "sig",
    conditions: [
      {
        type: "Approved",
        status: "True",
        reason: "PolicyAllows",
        message: "allowed",
        lastTransitionTime: at,
        observedGeneration: 1,
      },
      {
        type: "Granted",
        status: "False",
        reason: "Pending",
        message: "waiting",
        lastTransitionTime: at,
        observedGeneration: 1,
      },
    ],
    rules: [],
  };
}

function facts(over: Partial<AtSendFacts> = {}): AtSendFacts {
  return {
    approval: approval(),
    uid: "u-1",
    current: request(undefined, { uid: "u-1" }),
    early: true,
    view: { placement: { complete: true, rules: [RULE] }, rejected: undefined, failed: undefined },
    now: new Date(DECIDED + 250),
    ...over,
  };
}

describe("grantAtSend", () => {
  it("writes the approval as Active when every NSG carries this very approval", () => {
    const g = grantAtSend(facts());
    expect(g?.status.phase).toBe("Active");
    expect(g?.status.reason).toBe("Granted");
    expect(g?.status.rules).toEqual([RULE]);
    expect(g?.rules).toEqual([RULE]);
    // The approval stays whole: its window, its signature, and the Approved condition's own time.
    expect(g?.status.startTime).toBe(new Date(DECIDED).toISOString());
    expect(g?.status.expiresAt).toBe(new Date(DECIDED + HOUR).toISOString());
    expect(g?.status.approvalSignature).toBe("sig");
    const conditions = g?.status.conditions ?? [];
    expect(conditions.find((c) => c.type === "Approved")).toMatchObject({
      status: "True",
      lastTransitionTime: new Date(DECIDED).toISOString(),
    });
    expect(conditions.find((c) => c.type === "Granted")).toMatchObject({
      status: "True",
      reason: "RulesInPlace",
      lastTransitionTime: new Date(DECIDED + 250).toISOString(),
    });
    expect(g?.event).toMatchObject({ type: "Normal", reason: "Granted" });
  });

  it.each<[string, Partial<AtSendFacts>]>([
    [
      "a rule still missing from an NSG",
      { view: { placement: { complete: false, rules: [RULE] }, rejected: undefined, failed: undefined } },
    ],
    [
      "an NSG that rejected the grant",
      {
        view: {
          placement: { complete: true, rules: [RULE] },
          rejected: { reason: "PriorityConflict", message: "m" },
          failed: undefined,
        },
      },
    ],
    [
      "an NSG that failed",
      {
        view: {
          placement: { complete: true, rules: [RULE] },
          rejected: undefined,
          failed: { reason: "ArmError", message: "m" },
        },
      },
    ],
    ["an approval the NSGs do not plan with yet (its last write did not land)", { early: false }],
    ["a request gone from the cache", { current: undefined }],
    ["a deleted and re-created namesake", { current: request(undefined, { uid: "u-2" }) }],
    [
      "a request being deleted",
      { current: request(undefined, { uid: "u-1", deletionTimestamp: "2026-01-01T10:00:00Z" }) },
    ],
    ["a request already approved by another write", { current: request(approval(), { uid: "u-1" }) }],
    ["an approval that has lapsed", { now: new Date(DECIDED + HOUR) }],
  ])("writes the approval alone for %s", (_name, over) => {
    expect(grantAtSend(facts(over))).toBeUndefined();
  });

  it("writes the approval alone for a request revoked meanwhile", () => {
    const revoked = request(undefined, { uid: "u-1" });
    revoked.spec.revoked = true;
    expect(grantAtSend(facts({ current: revoked }))).toBeUndefined();
  });

  it("leaves a status that is not a fresh approval alone", () => {
    expect(grantAtSend(facts({ approval: { ...approval(), phase: "Denied" } }))).toBeUndefined();
  });
});
