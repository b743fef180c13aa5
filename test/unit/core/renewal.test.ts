// Renewal by a superseding request (ADR 0013): the decision, the caps counted from the original start,
// the narrowing of the approval snapshot, and the request decision around it (approval records the
// chain and is signed over it; the older closes as Superseded only once the newer is Active).
import { describe, expect, it } from "@jest/globals";
import type { AccessRequest } from "../../../src/api/types.ts";
import { signApproval, verifyApproval } from "../../../src/core/approval-signature.ts";
import { decideRenewal, narrowToOlder } from "../../../src/core/renewal.ts";
import type { RenewalFacts } from "../../../src/core/renewal.ts";
import { validatePolicySpec } from "../../../src/core/validate-policy.ts";
import { countOpenAhead, decideRequest } from "../../../src/operator/request/decision.ts";
import type { RequestFacts } from "../../../src/operator/request/decision.ts";
import { VM, policy, request } from "../operator/fixtures.ts";

const NOW = new Date("2026-01-01T02:00:00Z");
const HOUR = 3_600_000;

function older(over: Partial<NonNullable<AccessRequest["status"]>> = {}): AccessRequest {
  return request({
    phase: "Active",
    startTime: "2026-01-01T01:30:00Z",
    expiresAt: "2026-01-01T02:30:00Z",
    ...over,
  });
}

function newer(spec: Partial<AccessRequest["spec"]> = {}): AccessRequest {
  const r = request(undefined, { name: "alice-2", creationTimestamp: "2026-01-01T01:59:00Z" });
  r.spec = { ...r.spec, supersedes: "alice-1", ...spec };
  return r;
}

function facts(over: Partial<RenewalFacts> = {}): RenewalFacts {
  return {
    request: newer(),
    older: older(),
    olderAuthentic: true,
    rival: undefined,
    policy: policy(),
    now: NOW,
    durationMs: HOUR,
    ...over,
  };
}

describe("decideRenewal", () => {
  it("renews an Active grant asking for the same thing, recording the original start", () => {
    expect(decideRenewal(facts())).toEqual({ ok: true, chainStartTime: "2026-01-01T01:30:00Z", renewals: 1 });
  });

  it("carries the chain start and count on from an older renewal", () => {
    const o = older({ chainStartTime: "2026-01-01T00:00:00Z", renewals: 2 });
    expect(decideRenewal(facts({ older: o }))).toEqual({
      ok: true,
      chainStartTime: "2026-01-01T00:00:00Z",
      renewals: 3,
    });
  });

  it.each([
    ["requester", { requester: "mallory" }],
    ["policyName", { policyName: "other" }],
    ["targets", { targets: [VM] }],
    ["ports", { ports: [22, 3389] }],
    ["sourceAddressPrefix", { sourceAddressPrefix: "203.0.113.0/24" }],
  ])("refuses a renewal whose %s differs (never widens)", (field, spec) => {
    const v = decideRenewal(facts({ request: newer(spec) }));
    expect(v).toMatchObject({ ok: false, reason: "RenewalMismatch" });
    expect(!v.ok && v.message).toContain(`spec.${field} differs from AccessRequest alice-1`);
  });

  it.each([
    ["missing", { older: undefined }, "SupersededNotFound"],
    ["Pending", { older: older({ phase: "Pending" }) }, "SupersededNotActive"],
    ["Expired", { older: older({ phase: "Expired" }) }, "SupersededNotActive"],
    ["forged", { olderAuthentic: false }, "SupersededNotActive"],
    ["past its expiry", { now: new Date("2026-01-01T02:31:00Z") }, "SupersededNotActive"],
    ["already renewed", { rival: "alice-3" }, "AlreadySuperseded"],
  ])("refuses when the older request is %s", (_what, over, reason) => {
    expect(decideRenewal(facts(over as Partial<RenewalFacts>))).toMatchObject({ ok: false, reason });
  });

  it("refuses past maxRenewals", () => {
    const p = policy({ maxRenewals: 2 });
    expect(decideRenewal(facts({ policy: p, older: older({ renewals: 1 }) })).ok).toBe(true);
    const v = decideRenewal(facts({ policy: p, older: older({ renewals: 2 }) }));
    expect(v).toMatchObject({ ok: false, reason: "RenewalLimitExceeded" });
    expect(!v.ok && v.message).toContain("allows at most 2 (spec.maxRenewals)");
  });

  it("caps the chain at maxTotalDuration from the original start, not from the older's start", () => {
    // The chain began at 00:00; PT3H ends it at 03:00. now 02:00 + 1h = 03:00 fits, + 61m does not.
    const o = older({ chainStartTime: "2026-01-01T00:00:00Z", renewals: 1 });
    const p = policy({ maxTotalDuration: "PT3H" });
    expect(decideRenewal(facts({ policy: p, older: o })).ok).toBe(true);
    const v = decideRenewal(facts({ policy: p, older: o, durationMs: HOUR + 60_000 }));
    expect(v).toMatchObject({ ok: false, reason: "RenewalExceedsMaxTotal" });
    expect(!v.ok && v.message).toContain("maximum PT3H of policy web-admin (spec.maxTotalDuration)");
    expect(!v.ok && v.message).toContain("at most PT1H is left");
  });
});

describe("narrowToOlder", () => {
  it("keeps only what the older approval held", () => {
    const live = { targets: ["A", "B"], ports: [{ number: 22, protocol: "Any" as const }] };
    const old = { targets: ["a"], ports: [{ number: 22, protocol: "TCP" as const }] };
    expect(narrowToOlder(live, old)).toEqual({ targets: ["A"], ports: [{ number: 22, protocol: "TCP" }] });
  });
});

describe("policy renewal caps", () => {
  it("checks maxTotalDuration and maxRenewals with the field and the limit", () => {
    const spec = { ...policy().spec, maxTotalDuration: "P8D", maxRenewals: 101 };
    const messages = validatePolicySpec(spec).map((i) => i.message);
    expect(messages.some((m) => m.includes("spec.maxTotalDuration"))).toBe(true);
    expect(messages.some((m) => m.includes("spec.maxRenewals must be an integer from 0 to 100"))).toBe(true);
  });
});

function requestFacts(r: AccessRequest, over: Partial<RequestFacts> = {}): RequestFacts {
  return {
    request: r,
    now: NOW,
    verdict: { allowed: true },
    durationMs: HOUR,
    activeGrantCount: 1,
    placement: { complete: true, rules: [] },
    rejected: undefined,
    failed: undefined,
    cleared: false,
    retentionMs: HOUR,
    deniedRetentionMs: HOUR,
    limits: { perRequester: 1, perNamespace: 10 },
    openAhead: () => ({ requester: 0, namespace: 0 }),
    guard: { ok: true },
    ...over,
  };
}

describe("request decision with renewals", () => {
  const key = new Uint8Array(32).fill(7);

  it("approves a renewal with the chain in the signed status", () => {
    const r = newer();
    const d = decideRequest(
      requestFacts(r, {
        renewal: () => ({ ok: true, chainStartTime: "2026-01-01T00:00:00Z", renewals: 2 }),
        signApproval: (s) => signApproval(key, r, s),
      }),
    );
    expect(d.status).toMatchObject({ phase: "Pending", chainStartTime: "2026-01-01T00:00:00Z", renewals: 2 });
    const signed = { ...r, status: d.status };
    expect(verifyApproval(key, signed)).toBe(true);
    // A chain start rewritten by someone with status rights no longer verifies.
    const forged = { ...r, status: { ...d.status, chainStartTime: "2026-01-01T01:59:00Z" } };
    expect(verifyApproval(key, forged)).toBe(false);
  });

  it("denies a renewal the check refuses, and one that was not checked", () => {
    const refused = decideRequest(
      requestFacts(newer(), { renewal: () => ({ ok: false, reason: "RenewalMismatch", message: "m" }) }),
    );
    expect(refused.status).toMatchObject({ phase: "Denied", reason: "RenewalMismatch" });
    expect(decideRequest(requestFacts(newer())).status).toMatchObject({
      phase: "Denied",
      reason: "RenewalUnchecked",
    });
  });

  it("does not count the request being renewed against the open-request limit", () => {
    expect(countOpenAhead(newer(), [older()]).requester).toBe(0);
    expect(countOpenAhead(newer({ supersedes: "other" }), [older()]).requester).toBe(1);
  });

  it("closes the older as Superseded only when an Active renewal is named", () => {
    expect(decideRequest(requestFacts(older())).status?.phase).toBe("Active");
    const d = decideRequest(requestFacts(older(), { supersededBy: "alice-2" }));
    expect(d.status).toMatchObject({ phase: "Superseded", reason: "Superseded", rules: [] });
    expect(d.wakeNsgs).toBe(true);
    // A forged approval is not closed as Superseded but as not authentic.
    const forged = decideRequest(requestFacts(older(), { supersededBy: "alice-2", authentic: false }));
    expect(forged.status?.phase).toBe("Denied");
  });

  it("leaves approvals without renewal fields signed as before", () => {
    const r = request();
    const status = {
      phase: "Pending" as const,
      startTime: "2026-01-01T00:00:00Z",
      expiresAt: "2026-01-01T01:00:00Z",
    };
    const sig = signApproval(key, r, status);
    expect(verifyApproval(key, { ...r, status: { ...status, approvalSignature: sig } })).toBe(true);
  });
});
