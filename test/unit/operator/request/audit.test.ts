import { describe, expect, it } from "@jest/globals";
import type { AccessRequestStatus, GrantRuleStatus } from "../../../../src/api/types.ts";
import { auditEvent, auditRecord, deletionRecord } from "../../../../src/operator/request/audit.ts";
import { STATUS_RULES_MAX } from "../../../../src/operator/request/decision.ts";
import { NIC_NSG, VM, request } from "../fixtures.ts";

const START = "2026-01-01T00:00:00.000Z";
const END = "2026-01-01T01:00:00.000Z";
const approved: AccessRequestStatus = {
  phase: "Pending",
  startTime: START,
  expiresAt: END,
  reason: "Approved",
};

function rule(n: number): GrantRuleStatus {
  return {
    networkSecurityGroupId: NIC_NSG,
    ruleName: `drawbridge-r${n}`,
    priority: 100,
    port: 22,
    protocol: "TCP",
  };
}

describe("auditEvent", () => {
  it("names each decision and each open or close once", () => {
    expect(auditEvent(undefined, approved)).toBe("Approved");
    expect(auditEvent({ phase: "Pending", reason: "AdmissionGuardMissing" }, approved)).toBe("Approved");
    expect(auditEvent(undefined, { phase: "Denied", reason: "SourceNotAllowed" })).toBe("Denied");
    expect(auditEvent(approved, { ...approved, phase: "Active" })).toBe("Active");
    for (const phase of ["Expired", "Revoked", "Failed", "Denied"] as const) {
      expect(auditEvent({ ...approved, phase: "Active" }, { ...approved, phase })).toBe(phase);
    }
  });

  it("is silent for what is no transition: a held request, a refreshed status", () => {
    expect(auditEvent(undefined, { phase: "Pending", reason: "AdmissionGuardMissing" })).toBeUndefined();
    const active = { ...approved, phase: "Active" as const };
    expect(auditEvent(active, { ...active, message: "changed" })).toBeUndefined();
    expect(auditEvent(approved, { ...approved, message: "again" })).toBeUndefined();
  });
});

describe("auditRecord", () => {
  it("carries who, why, from where, to what, when, and the decider", () => {
    const r = request(undefined, { uid: "u-1" });
    r.spec.targets = [VM];
    r.spec.justification = "INC-42";
    const rec = auditRecord("Approved", r, approved);
    expect(rec).toEqual({
      audit: true,
      event: "Approved",
      request: "team-a/alice-1",
      uid: "u-1",
      policy: "team-a/web-admin",
      requester: "alice",
      justification: "INC-42",
      source: "203.0.113.7/32",
      targets: [VM],
      ports: [22],
      rules: [],
      rulesTotal: 0,
      startTime: START,
      expiresAt: END,
      reason: "Approved",
      message: undefined,
      approver: "policy",
    });
    // Survives JSON (what the log writes) unchanged apart from the undefined fields.
    expect(JSON.parse(JSON.stringify(rec))).toMatchObject({ audit: true, targets: [VM] });
  });

  it("says 'all' for a request without targets and has no approver for a denial", () => {
    const rec = auditRecord("Denied", request(), {
      phase: "Denied",
      reason: "RequesterLimitExceeded",
      message: "m",
    });
    expect(rec.targets).toBe("all");
    expect(rec.approver).toBeNull();
    expect(rec.reason).toBe("RequesterLimitExceeded");
    expect(rec.startTime).toBeUndefined();
  });

  it("lists the placed rules when opening (bounded, with the total) and the last listed ones when closing", () => {
    const placed = Array.from({ length: 250 }, (_, i) => rule(i));
    const open = auditRecord("Active", request(approved), { ...approved, phase: "Active" }, placed);
    expect(open.rules).toHaveLength(STATUS_RULES_MAX);
    expect(open.rules[0]).toEqual({ nsg: NIC_NSG, rule: "drawbridge-r0", port: 22 });
    expect(open.rulesTotal).toBe(250);
    const live = request({ ...approved, phase: "Active", rules: [rule(1)] });
    const closed = auditRecord("Expired", live, {
      ...approved,
      phase: "Expired",
      rules: [],
      reason: "Expired",
    });
    expect(closed.rules).toEqual([{ nsg: NIC_NSG, rule: "drawbridge-r1", port: 22 }]);
    expect(closed.startTime).toBe(START);
    expect(closed.approver).toBe("policy");
  });

  it("records a deletion that closed an open grant as Revoked/Deleted", () => {
    const rec = deletionRecord(request({ ...approved, phase: "Active", rules: [rule(3)] }));
    expect(rec).toMatchObject({ event: "Revoked", reason: "Deleted", expiresAt: END, approver: "policy" });
    expect(rec.rules).toHaveLength(1);
  });
});
