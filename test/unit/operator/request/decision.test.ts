import { describe, expect, it } from "@jest/globals";
import type { AccessRequest, AccessRequestStatus, GrantRuleStatus } from "../../../../src/api/types.ts";
import { FakeClock } from "../../../../src/runtime/clock.ts";
import {
  GUARD_RECHECK_MS,
  STATUS_RULES_MAX,
  countOpenAhead,
  decideRequest,
} from "../../../../src/operator/request/decision.ts";
import type { RequestFacts } from "../../../../src/operator/request/decision.ts";
import { approvalSnapshot } from "../../../../src/core/grants.ts";
import { JUMP_NSG, NIC_NSG, VM, policy, request } from "../fixtures.ts";

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
    deniedRetentionMs: HOUR,
    limits: { perRequester: 10, perNamespace: 200 },
    openAhead: () => ({ requester: 0, namespace: 0 }),
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

  it("records at approval what the policy gives now (status.approved) and keeps it through Active and close", () => {
    const clock = new FakeClock();
    const snapshot = approvalSnapshot(request(), policy());
    expect(snapshot).toEqual({ targets: [VM, JUMP_NSG], ports: [{ number: 22, protocol: "TCP" }] });
    let calls = 0;
    const approvedSnapshot = (): typeof snapshot => {
      calls++;
      return snapshot;
    };
    const d = decideRequest(facts(clock, { approvedSnapshot }));
    expect(d.status?.approved).toEqual(snapshot);
    expect(calls).toBe(1);
    // Later decisions never take a new snapshot: a policy edit after approval cannot move the bound.
    const active = decideRequest(
      facts(clock, {
        request: request(d.status),
        approvedSnapshot,
        placement: { complete: true, rules: [] },
      }),
    );
    expect(active.status?.phase).toBe("Active");
    expect(active.status?.approved).toEqual(snapshot);
    clock.advance(HOUR);
    const expired = decideRequest(
      facts(clock, { request: request(active.status), approvedSnapshot, now: clock.now() }),
    );
    expect(expired.status?.phase).toBe("Expired");
    expect(expired.status?.approved).toEqual(snapshot);
    expect(calls).toBe(1);
  });

  it("approves without status.approved when no snapshot is supplied (the grant then follows the policy alone)", () => {
    const clock = new FakeClock();
    const d = decideRequest(facts(clock));
    expect(d.status?.startTime).toBeDefined();
    expect(d.status).not.toHaveProperty("approved");
  });

  it("takes no snapshot for a request it does not approve", () => {
    const clock = new FakeClock();
    const approvedSnapshot = (): never => {
      throw new Error("snapshot taken for a denial");
    };
    const denied = decideRequest(
      facts(clock, {
        approvedSnapshot,
        verdict: { allowed: false, reason: "PortNotAllowed", field: "spec.ports", message: "no", issues: [] },
      }),
    );
    expect(denied.status?.phase).toBe("Denied");
    expect(denied.status?.approved).toBeUndefined();
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

  it("keeps a Denied request, and one revoked before approval, only for the denied retention", () => {
    const clock = new FakeClock();
    const verdict = {
      allowed: false as const,
      reason: "SourceNotAllowed",
      field: "spec.sourceAddressPrefix",
      message: "outside",
      issues: [],
    };
    const denied = decideRequest(facts(clock, { verdict }));
    expect(denied.requeueAfterMs).toBe(HOUR);
    const r = request(denied.status);
    clock.advance(HOUR - 1);
    expect(decideRequest(facts(clock, { request: r })).deleteObject).toBe(false);
    clock.advance(1);
    expect(decideRequest(facts(clock, { request: r })).deleteObject).toBe(true);

    const unapproved = request();
    unapproved.spec.revoked = true;
    const revoked = decideRequest(facts(clock, { request: unapproved }));
    expect(revoked.status?.phase).toBe("Revoked");
    expect(revoked.requeueAfterMs).toBe(HOUR);

    // Denied after approval (the NSG had no room) is refused too: the short retention.
    const capacity = decideRequest(
      facts(clock, {
        request: request(approved(clock)),
        rejected: { reason: "CapacityExceeded", message: "full" },
      }),
    );
    expect(capacity.requeueAfterMs).toBe(HOUR);
    // Expired, Revoked and Failed after approval keep the full retention.
    const failed = decideRequest(
      facts(clock, { request: request(approved(clock)), failed: { reason: "X", message: "y" } }),
    );
    expect(failed.requeueAfterMs).toBe(7 * DAY);
  });

  it("denies a request over the per-requester limit, naming the limit and the flag", () => {
    const clock = new FakeClock();
    const d = decideRequest(facts(clock, { openAhead: () => ({ requester: 10, namespace: 10 }) }));
    expect(d.status?.phase).toBe("Denied");
    expect(d.status?.reason).toBe("RequesterLimitExceeded");
    expect(d.status?.message).toContain("already holds 10 open AccessRequests");
    expect(d.status?.message).toContain("the limit is 10 (--max-open-requests-per-requester)");
    expect(d.status?.startTime).toBeUndefined();
    expect(d.wakeNsgs).toBe(false);
    expect(d.requeueAfterMs).toBe(HOUR);
    // One below the limit: approved.
    const ok = decideRequest(facts(clock, { openAhead: () => ({ requester: 9, namespace: 199 }) }));
    expect(ok.status?.startTime).toBe(clock.now().toISOString());
  });

  it("denies a request over the per-namespace limit, naming the limit and the flag", () => {
    const clock = new FakeClock();
    const d = decideRequest(facts(clock, { openAhead: () => ({ requester: 0, namespace: 200 }) }));
    expect(d.status?.reason).toBe("NamespaceLimitExceeded");
    expect(d.status?.message).toContain("namespace team-a already holds 200");
    expect(d.status?.message).toContain("--max-open-requests-per-namespace");
  });

  it("checks limits only when deciding: an approved request is never counted out later", () => {
    const clock = new FakeClock();
    let asked = 0;
    const openAhead = (): { requester: number; namespace: number } => {
      asked++;
      return { requester: 99, namespace: 999 };
    };
    const d = decideRequest(
      facts(clock, {
        request: request(approved(clock)),
        openAhead,
        placement: { complete: true, rules: [] },
      }),
    );
    expect(d.status?.phase).toBe("Active");
    expect(asked).toBe(0);
    // The policy's reason wins over the limit's: it says more.
    const verdict = {
      allowed: false as const,
      reason: "PortNotAllowed",
      field: "spec.ports",
      message: "no",
      issues: [],
    };
    expect(decideRequest(facts(clock, { verdict, openAhead })).status?.reason).toBe("PortNotAllowed");
  });

  it("lists at most STATUS_RULES_MAX rules and says how many there are", () => {
    const clock = new FakeClock();
    const rules: GrantRuleStatus[] = [];
    for (let vm = 0; vm < 100; vm++) {
      for (let port = 1; port <= 32; port++) {
        rules.push({
          networkSecurityGroupId: `${NIC_NSG}-${vm}`,
          ruleName: `drawbridge-r${port}`,
          priority: 100 + port,
          port,
          protocol: "TCP",
        });
      }
    }
    const d = decideRequest(
      facts(clock, { request: request(approved(clock)), placement: { complete: true, rules } }),
    );
    expect(d.status?.phase).toBe("Active");
    expect(d.status?.rules).toHaveLength(STATUS_RULES_MAX);
    expect(d.status?.rules).toEqual(rules.slice(0, STATUS_RULES_MAX));
    expect(d.status?.message).toContain(`3200 NSG rules; status.rules lists the first ${STATUS_RULES_MAX}`);
    expect(d.status?.conditions?.find((c) => c.type === "Granted")?.message).toContain("3200 NSG rules");
    expect(d.events[0]?.message).toContain("3200 NSG rule(s)");
    // The written status is a fixed point: the next reconcile writes nothing new.
    const again = decideRequest(
      facts(clock, { request: request(d.status), placement: { complete: true, rules } }),
    );
    expect(again.status).toEqual(d.status);
  });
});

describe("countOpenAhead", () => {
  function ar(
    name: string,
    created: string,
    over: { requester?: string; namespace?: string; status?: AccessRequestStatus; revoked?: boolean } = {},
  ): AccessRequest {
    const r = request(over.status, {
      name,
      creationTimestamp: created,
      namespace: over.namespace ?? "team-a",
    });
    r.spec.requester = over.requester ?? "alice";
    if (over.revoked === true) r.spec.revoked = true;
    return r;
  }
  const T0 = "2026-01-01T00:00:00Z";
  const T1 = "2026-01-01T00:00:01Z";
  const active: AccessRequestStatus = { phase: "Active", startTime: T0, expiresAt: T1 };

  it("counts undecided requests that come first, by creationTimestamp then name, so a burst cannot flap", () => {
    const burst = [ar("e", T1), ar("d", T1), ar("c", T0), ar("b", T0), ar("a", T1)];
    const rank = (n: string): number =>
      countOpenAhead(
        burst.find((r) => r.metadata.name === n)!,
        burst,
      ).requester;
    // Order: b, c (T0), then a, d, e (T1).
    expect(["b", "c", "a", "d", "e"].map(rank)).toEqual([0, 1, 2, 3, 4]);
    // The same whatever order the cache lists them in.
    const reversed = [...burst].reverse();
    expect(countOpenAhead(burst[0]!, reversed).requester).toBe(4);
  });

  it("always counts approved open requests, even younger ones, and never terminal ones", () => {
    const me = ar("a", T0);
    const all = [
      me,
      ar("z", T1, { status: active }),
      ar("y", T1, { status: { ...active, phase: "Pending" } }),
      ar("x", T0, { status: { phase: "Expired", startTime: T0 } }),
      ar("w", T0, { status: { phase: "Denied", reason: "RequesterLimitExceeded" } }),
    ];
    expect(countOpenAhead(me, all)).toEqual({ requester: 2, namespace: 2 });
  });

  it("counts an approval whose status write is still in flight, however young", () => {
    const me = ar("a", T0);
    const inFlight = ar("z", T1);
    expect(countOpenAhead(me, [me, inFlight]).requester).toBe(0);
    expect(countOpenAhead(me, [me, inFlight], (o) => o.metadata.name === "z").requester).toBe(1);
  });

  it("leaves out undecided requests that can never open: deleted or revoked", () => {
    const me = ar("z", T1);
    const deleted = ar("a", T0);
    deleted.metadata.deletionTimestamp = T1;
    const all = [me, deleted, ar("b", T0, { revoked: true })];
    expect(countOpenAhead(me, all)).toEqual({ requester: 0, namespace: 0 });
    // Approved and being deleted still holds its grant until the NSGs drop it: it counts.
    const closing = ar("c", T0, { status: active });
    closing.metadata.deletionTimestamp = T1;
    expect(countOpenAhead(me, [...all, closing])).toEqual({ requester: 1, namespace: 1 });
  });

  it("counts the requester across namespaces and the namespace across requesters", () => {
    const me = ar("m", T1);
    const all = [
      me,
      ar("a", T0, { namespace: "team-b" }),
      ar("b", T0, { requester: "bob" }),
      ar("c", T0, { namespace: "team-b", requester: "bob" }),
    ];
    expect(countOpenAhead(me, all)).toEqual({ requester: 1, namespace: 1 });
  });
});

describe("decideRequest with signed approvals (ADR 0012)", () => {
  it("signs the approval it writes, over the status as written", () => {
    const clock = new FakeClock();
    const seen: AccessRequestStatus[] = [];
    const d = decideRequest(
      facts(clock, {
        signApproval: (s) => {
          seen.push({ ...s });
          return "v1.sig";
        },
      }),
    );
    expect(d.status?.approvalSignature).toBe("v1.sig");
    expect(seen).toHaveLength(1);
    expect(seen[0]?.startTime).toBe(d.status?.startTime);
    expect(seen[0]?.expiresAt).toBe(d.status?.expiresAt);
    expect(seen[0]?.approvalSignature).toBeUndefined();
  });

  it("closes a request whose approval does not verify as Denied ApprovalNotAuthentic, waking its NSGs", () => {
    const clock = new FakeClock();
    const r = { ...request(), status: approved(clock, "Pending") } as AccessRequest;
    const d = decideRequest(facts(clock, { request: r, authentic: false, activeGrantCount: 0 }));
    expect(d.status?.phase).toBe("Denied");
    expect(d.status?.reason).toBe("ApprovalNotAuthentic");
    expect(d.wakeNsgs).toBe(true);
    expect(d.events.map((e) => e.reason)).toEqual(["Denied"]);
  });

  it("keeps an authentic approval as it was", () => {
    const clock = new FakeClock();
    const r = { ...request(), status: approved(clock, "Active") } as AccessRequest;
    const d = decideRequest(facts(clock, { request: r, authentic: true }));
    expect(d.status?.phase ?? "Active").toBe("Active");
  });
});
