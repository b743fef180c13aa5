import { describe, expect, it } from "@jest/globals";
import type { AccessRequestStatus } from "../../../src/api/types.ts";
import { FakeClock } from "../../../src/operator/runtime/clock.ts";
import { GUARD_RECHECK_MS, decideRequest } from "../../../src/operator/request-decision.ts";
import type { RequestFacts } from "../../../src/operator/request-decision.ts";
import { NIC_NSG, request } from "./fixtures.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function facts(clock: FakeClock, over: Partial<RequestFacts> = {}): RequestFacts {
  return {
    request: request(),
    now: clock.now(),
    verdict: { allowed: true },
    durationMs: HOUR,
    activeGrantCount: 1,
    placement: { complete: false, rules: [] },
    rejected: undefined,
    failed: undefined,
    cleared: false,
    retentionMs: 7 * DAY,
    guard: { ok: true },
    ...over,
  };
}

function approved(clock: FakeClock, phase: AccessRequestStatus["phase"] = "Pending"): AccessRequestStatus {
  const start = clock.now();
  return {
    phase,
    startTime: start.toISOString(),
    expiresAt: new Date(start.getTime() + HOUR).toISOString(),
    conditions: [],
  };
}

describe("decideRequest", () => {
  it("holds an undecided request Pending while its namespace is unguarded, warning once", () => {
    const clock = new FakeClock();
    const guard = { ok: false as const, reason: "AdmissionGuardMissing", message: "no guard for team-a" };
    const d = decideRequest(facts(clock, { guard, verdict: { allowed: true } }));
    expect(d.status?.phase).toBe("Pending");
    expect(d.status?.startTime).toBeUndefined();
    expect(d.status?.reason).toBe("AdmissionGuardMissing");
    expect(d.status?.conditions?.find((c) => c.type === "Approved")).toMatchObject({
      status: "False",
      reason: "AdmissionGuardMissing",
      message: "no guard for team-a",
    });
    expect(d.wakeNsgs).toBe(false);
    expect(d.requeueAfterMs).toBe(GUARD_RECHECK_MS);
    expect(d.events).toEqual([
      { type: "Warning", reason: "AdmissionGuardMissing", message: "no guard for team-a" },
    ]);
    // Held again later: no second Event; once the guard is back it is approved.
    const held = request(d.status);
    expect(decideRequest(facts(clock, { guard, request: held })).events).toEqual([]);
    expect(decideRequest(facts(clock, { request: held })).status?.startTime).toBe(clock.now().toISOString());
  });

  it("keeps an approved grant when the guard goes (it only stops new ones)", () => {
    const clock = new FakeClock();
    const guard = { ok: false as const, reason: "AdmissionGuardMissing", message: "gone" };
    const d = decideRequest(
      facts(clock, {
        guard,
        request: request(approved(clock, "Active")),
        placement: { complete: true, rules: [] },
      }),
    );
    expect(d.status?.phase).toBe("Active");
  });

  it("approves an allowed request: the clock starts now, phase Pending, NSGs woken, finalizer kept", () => {
    const clock = new FakeClock();
    const d = decideRequest(facts(clock));
    expect(d.status?.phase).toBe("Pending");
    expect(d.status?.startTime).toBe(clock.now().toISOString());
    expect(d.status?.expiresAt).toBe(new Date(clock.now().getTime() + HOUR).toISOString());
    expect(d.wakeNsgs).toBe(true);
    expect(d.addFinalizer).toBe(false);
    expect(d.requeueAfterMs).toBe(HOUR);
    expect(d.events.map((e) => e.reason)).toEqual(["Approved"]);
  });

  it("adds the finalizer when it is missing", () => {
    const clock = new FakeClock();
    const d = decideRequest(facts(clock, { request: request(undefined, { finalizers: [] }) }));
    expect(d.addFinalizer).toBe(true);
  });

  it("denies a request the policy does not allow, names the reason, and wakes no NSG", () => {
    const clock = new FakeClock();
    const d = decideRequest(
      facts(clock, {
        verdict: {
          allowed: false,
          reason: "SourceNotAllowed",
          field: "spec.sourceAddressPrefix",
          message: "198.51.100.7/32 is outside 203.0.113.0/24",
          issues: [],
        },
      }),
    );
    expect(d.status?.phase).toBe("Denied");
    expect(d.status?.reason).toBe("SourceNotAllowed");
    expect(d.status?.startTime).toBeUndefined();
    expect(d.wakeNsgs).toBe(false);
    expect(d.events).toEqual([
      {
        type: "Warning",
        reason: "Denied",
        message: "SourceNotAllowed: 198.51.100.7/32 is outside 203.0.113.0/24",
      },
    ]);
    expect(d.status?.conditions?.find((c) => c.type === "Approved")?.status).toBe("False");
  });

  it("becomes Active with the rules once every NSG carries the grant, with one Granted event", () => {
    const clock = new FakeClock();
    const rules = [
      {
        networkSecurityGroupId: NIC_NSG,
        ruleName: "drawbridge-x",
        priority: 100,
        port: 22,
        protocol: "TCP" as const,
      },
    ];
    const r = request(approved(clock));
    clock.advance(500);
    const d = decideRequest(facts(clock, { request: r, placement: { complete: true, rules } }));
    expect(d.status?.phase).toBe("Active");
    expect(d.status?.rules).toEqual(rules);
    expect(d.status?.startTime).toBe(r.status?.startTime);
    expect(d.events.map((e) => e.reason)).toEqual(["Granted"]);
    expect(d.requeueAfterMs).toBe(HOUR - 500);
    const again = decideRequest(
      facts(clock, { request: { ...r, status: d.status! }, placement: { complete: true, rules } }),
    );
    expect(again.events).toEqual([]);
    expect(again.status?.conditions).toEqual(d.status?.conditions);
  });

  it("stays Pending while an NSG does not carry the grant yet", () => {
    const clock = new FakeClock();
    const d = decideRequest(facts(clock, { request: request(approved(clock)) }));
    expect(d.status).toBeUndefined();
    expect(d.requeueAfterMs).toBe(HOUR);
  });

  it("expires at expiresAt, clears the rules and wakes the NSGs", () => {
    const clock = new FakeClock();
    const r = request(approved(clock, "Active"));
    clock.advance(HOUR);
    const d = decideRequest(facts(clock, { request: r }));
    expect(d.status?.phase).toBe("Expired");
    expect(d.status?.rules).toEqual([]);
    expect(d.wakeNsgs).toBe(true);
    expect(d.events[0]?.reason).toBe("Expired");
  });

  it("revokes on spec.revoked before anything else", () => {
    const clock = new FakeClock();
    const r = request(approved(clock, "Active"));
    r.spec.revoked = true;
    const d = decideRequest(facts(clock, { request: r }));
    expect(d.status?.phase).toBe("Revoked");
    expect(d.status?.reason).toBe("RevokedByUser");
    expect(d.wakeNsgs).toBe(true);
  });

  it("is Denied with CapacityExceeded when the planner rejects the grant, Failed when Azure refuses", () => {
    const clock = new FakeClock();
    const r = request(approved(clock));
    const denied = decideRequest(
      facts(clock, { request: r, rejected: { reason: "CapacityExceeded", message: "4000 prefixes" } }),
    );
    expect(denied.status?.phase).toBe("Denied");
    expect(denied.status?.reason).toBe("CapacityExceeded");
    const failed = decideRequest(
      facts(clock, { request: r, failed: { reason: "InvalidSecurityRule", message: "bad" } }),
    );
    expect(failed.status?.phase).toBe("Failed");
    expect(failed.events[0]?.type).toBe("Warning");
  });

  it("revokes a live grant the policy no longer covers", () => {
    const clock = new FakeClock();
    const d = decideRequest(
      facts(clock, { request: request(approved(clock, "Active")), activeGrantCount: 0 }),
    );
    expect(d.status?.phase).toBe("Revoked");
    expect(d.status?.reason).toBe("PolicyChanged");
  });

  it("keeps the finalizer of a deleted, approved request until every NSG dropped it", () => {
    const clock = new FakeClock();
    const r = request(approved(clock, "Active"), { deletionTimestamp: clock.now().toISOString() });
    const waiting = decideRequest(facts(clock, { request: r }));
    expect(waiting.removeFinalizer).toBe(false);
    expect(waiting.wakeNsgs).toBe(true);
    const done = decideRequest(facts(clock, { request: r, cleared: true }));
    expect(done.removeFinalizer).toBe(true);
    expect(done.events.map((e) => e.reason)).toEqual(["Revoked"]);
  });

  it("releases a deleted request that was never approved at once", () => {
    const clock = new FakeClock();
    const r = request(undefined, { deletionTimestamp: clock.now().toISOString() });
    expect(decideRequest(facts(clock, { request: r })).removeFinalizer).toBe(true);
  });

  it("deletes a terminal request after the retention period, not before", () => {
    const clock = new FakeClock();
    const closed = decideRequest(
      facts(clock, { request: request(approved(clock, "Active")), activeGrantCount: 0 }),
    );
    const r = request(closed.status);
    clock.advance(7 * DAY - 1);
    const early = decideRequest(facts(clock, { request: r }));
    expect(early.deleteObject).toBe(false);
    expect(early.requeueAfterMs).toBe(1);
    clock.advance(1);
    expect(decideRequest(facts(clock, { request: r })).deleteObject).toBe(true);
  });
});
