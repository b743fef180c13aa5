// The approval step of decideRequest and what a decision tells the notifier: waiting says how many
// approvals and why some do not count, rejection and timeout close without a grant, enough
// approvals approve with the grant's clock starting then. Pure.
import { describe, expect, it } from "@jest/globals";
import type { AccessApproval, AccessRequest, JitNotifier, JitPolicy } from "../../../../src/api/types.ts";
import { NotificationDispatcher, wants } from "../../../../src/notify/dispatcher.ts";
import type { Notification } from "../../../../src/notify/types.ts";
import { approvalFacts, notificationTypes } from "../../../../src/operator/request/approval-facts.ts";
import { approvalStep } from "../../../../src/operator/approval/gate.ts";
import { decideRequest } from "../../../../src/operator/request/decision.ts";
import type { RequestFacts } from "../../../../src/operator/request/decision.ts";

const NS = "team-a";
const CREATED = "2026-01-01T00:00:00Z";

const policy: JitPolicy = {
  apiVersion: "jit.drawbridge.dev/v1alpha1",
  kind: "JitPolicy",
  metadata: { name: "p", namespace: NS },
  spec: {
    targets: [],
    ports: [{ number: 22, protocol: "TCP", maxDuration: "PT3H" }],
    priorityRange: { from: 100, to: 199 },
    nsgScope: "All",
    approval: { required: 2, approvers: { users: ["bob", "carol", "dave"] }, timeout: "PT1H" },
  },
};

function request(status?: AccessRequest["status"]): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: {
      name: "r1",
      namespace: NS,
      uid: "u-1",
      generation: 1,
      creationTimestamp: CREATED,
      finalizers: ["jit.drawbridge.dev/finalizer"],
    },
    spec: {
      policyName: "p",
      ports: [22],
      sourceAddressPrefix: "203.0.113.7/32",
      duration: "PT1H",
      justification: "INC-1",
      requester: "alice",
    },
    ...(status ? { status } : {}),
  };
}

function answer(approver: string, decision: "Approve" | "Reject" = "Approve"): AccessApproval {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessApproval",
    metadata: { name: `${approver}-${decision}`, namespace: NS, creationTimestamp: "2026-01-01T00:05:00Z" },
    spec: { requestName: "r1", requestUID: "u-1", decision, approver, comment: "why" },
  };
}

function facts(r: AccessRequest, approvals: AccessApproval[], now: string): RequestFacts {
  return {
    request: r,
    now: new Date(now),
    verdict: { allowed: true },
    durationMs: 3_600_000,
    activeGrantCount: 0,
    placement: { complete: false, rules: [] },
    rejected: undefined,
    failed: undefined,
    cleared: false,
    retentionMs: 1000,
    deniedRetentionMs: 1000,
    limits: { perRequester: 10, perNamespace: 10 },
    openAhead: () => ({ requester: 0, namespace: 0 }),
    guard: { ok: true },
    approval: () =>
      approvalFacts(r, policy, { approvals: () => approvals, approvalGuard: () => ({ ok: true }) }),
  };
}

describe("the approval step", () => {
  it("waits in Pending with AwaitingApproval, naming what does not count", () => {
    const d = decideRequest(facts(request(), [answer("alice"), answer("bob")], "2026-01-01T00:10:00Z"));
    expect(d.status?.phase).toBe("Pending");
    expect(d.status?.startTime).toBeUndefined();
    expect(d.status?.approvalSummary).toBe("1/2");
    expect(d.status?.conditions?.find((c) => c.type === "AwaitingApproval")?.status).toBe("True");
    expect(d.status?.message).toContain("alice: SelfApproval");
    expect(d.events.map((e) => e.reason)).toEqual(["AwaitingApproval", "ApprovalIgnored"]);
    expect(d.wakeNsgs).toBe(false);
    expect(d.requeueAfterMs).toBe(50 * 60_000);
    // Seen once: the next decision raises no event again.
    const again = decideRequest(
      facts(request(d.status), [answer("alice"), answer("bob")], "2026-01-01T00:11:00Z"),
    );
    expect(again.events).toEqual([]);
  });

  it("approves on the second distinct approver, the clock starting then", () => {
    const now = "2026-01-01T00:20:00Z";
    const d = decideRequest(facts(request(), [answer("bob"), answer("carol")], now));
    expect(d.status?.startTime).toBe(new Date(now).toISOString());
    expect(d.status?.expiresAt).toBe("2026-01-01T01:20:00.000Z");
    expect(d.status?.approvalSummary).toBe("2/2");
    expect(d.status?.conditions?.find((c) => c.type === "Approved")?.reason).toBe("ApproversApproved");
    expect(d.wakeNsgs).toBe(true);
  });

  it("one eligible rejection denies; the deadline times out", () => {
    const rejected = decideRequest(
      facts(request(), [answer("bob"), answer("carol", "Reject")], "2026-01-01T00:10:00Z"),
    );
    expect(rejected.status).toMatchObject({
      phase: "Denied",
      reason: "Rejected",
      message: "rejected by carol: why",
    });
    const late = decideRequest(facts(request(), [answer("bob")], "2026-01-01T01:00:00Z"));
    expect(late.status).toMatchObject({
      phase: "TimedOut",
      reason: "ApprovalTimedOut",
      approvalSummary: "1/2",
    });
    expect(late.status?.startTime).toBeUndefined();
    expect(late.wakeNsgs).toBe(false);
  });

  it("counts nothing where the approver admission policy does not hold", () => {
    const f = approvalFacts(request(), policy, {
      approvals: () => [answer("bob"), answer("carol")],
      approvalGuard: () => ({ ok: false }),
    });
    expect(f === undefined ? "auto" : approvalStep(request(), f, new Date("2026-01-01T00:10:00Z")).kind).toBe(
      "wait",
    );
  });
});

describe("notifications of a decision", () => {
  it("maps the first decision and later ones to event types, in order", () => {
    const first = decideRequest(facts(request(), [], "2026-01-01T00:01:00Z"));
    expect(notificationTypes(request(), first)).toEqual(["Requested", "AwaitingApproval"]);
    // Whether or not the operator adds the finalizer in the same pass (ADR 0022).
    expect(notificationTypes(request(), { ...first, addFinalizer: true })).toEqual([
      "Requested",
      "AwaitingApproval",
    ]);
    expect(notificationTypes(request(), { ...first, addFinalizer: false })).toEqual([
      "Requested",
      "AwaitingApproval",
    ]);
    // A pass that writes no status (a finalizer alone) announces nothing yet.
    expect(
      notificationTypes(request(), { ...first, status: undefined, addFinalizer: true, events: [] }),
    ).toEqual([]);
    const rejected = decideRequest(
      facts(request({ phase: "Pending" }), [answer("dave", "Reject")], "2026-01-01T00:02:00Z"),
    );
    expect(notificationTypes(request({ phase: "Pending" }), rejected)).toEqual(["Rejected"]);
  });

  it("routes by namespace, event and policy filters", () => {
    const n = { type: "Opened", namespace: NS, policy: "p" } as Notification;
    const notifier = (spec: object, ns = NS): JitNotifier =>
      ({
        metadata: { name: "x", namespace: ns },
        spec: { webhookSecretRef: { name: "s", key: "url" }, format: "Slack", ...spec },
      }) as never;
    expect(wants(notifier({}), n)).toBe(true);
    expect(wants(notifier({}, "other"), n)).toBe(false);
    expect(wants(notifier({ events: ["Approved"] }), n)).toBe(false);
    expect(wants(notifier({ policies: ["q"] }), n)).toBe(false);
  });

  it("never calls a webhook from notify(): it only queues", () => {
    let reads = 0;
    const d = new NotificationDispatcher({
      notifiers: () => [
        {
          apiVersion: "jit.drawbridge.dev/v1alpha1",
          kind: "JitNotifier",
          metadata: { name: "x", namespace: NS, uid: "n1" },
          spec: { webhookSecretRef: { name: "s", key: "url" }, format: "CloudEvents" },
        },
      ],
      readSecret: () => {
        reads++;
        return new Promise(() => undefined);
      },
      expiringLeadMs: 1000,
      capacity: 10,
      attemptTimeoutMs: 100,
      maxAttempts: 1,
      urlTtlMs: 1000,
      log: { warn: () => undefined },
      now: () => Date.now(),
    });
    // Queues and returns although the secret read it started never settles.
    d.notify({ type: "Requested", namespace: NS, policy: "p", uid: "u", id: "1" } as Notification);
    expect(reads).toBe(1);
    d.close();
  });
});
