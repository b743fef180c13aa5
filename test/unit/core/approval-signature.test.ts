// Signed approvals and resolutions (ADR 0012): a status anyone with `*/status` rights can write counts
// only when the operator's HMAC over it verifies.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type {
  AccessRequest,
  AccessRequestStatus,
  JitPolicy,
  ResolvedTargetStatus,
} from "../../../src/api/types.ts";
import {
  LEGACY_APPROVAL_MAX_MS,
  approvalVerifier,
  isLegacyApproval,
  signApproval,
  signTargets,
  verifyApproval,
  verifyTargets,
} from "../../../src/core/approval-signature.ts";
import { activeGrants } from "../../../src/core/index.ts";

const numRuns = process.env["CI"] ? 2000 : 300;
const KEY = Buffer.alloc(32, 7);
const OTHER = Buffer.alloc(32, 8);
const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers";
const VM = `${SUB}/Microsoft.Compute/virtualMachines/web-1`;
const JUMP = `${SUB}/Microsoft.Network/networkSecurityGroups/jump-nsg`;
const NIC = `${SUB}/Microsoft.Network/networkSecurityGroups/web-1-nic-nsg`;
const NOW = new Date("2026-11-25T12:30:00Z");
/** The key came into being a day before NOW: approvals started after it must be signed. */
const KEY_CREATED = new Date("2026-11-24T12:00:00Z");
const SIGNING = { key: KEY, createdAt: KEY_CREATED };

function policy(): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { namespace: "team-a", name: "web-admin", uid: "pol-uid-1" },
    spec: {
      targets: [{ networkSecurityGroupId: JUMP, destinationAddressPrefixes: ["10.0.2.4/32"] }],
      ports: [{ number: 22, protocol: "TCP", maxDuration: "PT3H" }],
      priorityRange: { from: 100, to: 199 },
      nsgScope: "All",
    },
  };
}

function approval(start = "2026-11-25T12:00:00Z", end = "2026-11-25T13:00:00Z"): AccessRequestStatus {
  return { phase: "Active", startTime: start, expiresAt: end };
}

function request(
  status: AccessRequestStatus = approval(),
  spec: Partial<AccessRequest["spec"]> = {},
): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { namespace: "team-a", name: "alice-1", uid: "req-uid-1" },
    spec: {
      policyName: "web-admin",
      ports: [22],
      sourceAddressPrefix: "203.0.113.7",
      duration: "PT1H",
      justification: "INC-1",
      requester: "alice",
      ...spec,
    },
    status,
  };
}

function signed(r: AccessRequest, key: Uint8Array = KEY): AccessRequest {
  const status = r.status ?? {};
  return { ...r, status: { ...status, approvalSignature: signApproval(key, r, status) } };
}

describe("approval signatures", () => {
  it("verify over exactly what was approved", () => {
    const r = signed(request());
    expect(verifyApproval(KEY, r)).toBe(true);
    expect(r.status?.approvalSignature).toMatch(/^v1\.[0-9a-f]{64}$/);
  });

  it("depend on the key's bytes only, not on which array holds them (keys are made once per array)", () => {
    const r = request();
    const sig = signApproval(KEY, r, r.status ?? {});
    expect(signApproval(Uint8Array.from(KEY), r, r.status ?? {})).toBe(sig);
    expect(signApproval(OTHER, r, r.status ?? {})).not.toBe(sig);
    expect(signApproval(KEY, r, r.status ?? {})).toBe(sig);
  });

  it("do not verify under another key, or without a signature", () => {
    expect(verifyApproval(KEY, signed(request(), OTHER))).toBe(false);
    expect(verifyApproval(KEY, request())).toBe(false);
  });

  it("break when any signed field changes (startTime, expiresAt, approved, uid, spec)", () => {
    const r = signed(request(approval(), {}));
    const later = { ...r, status: { ...r.status, startTime: "2026-11-25T13:00:00Z" } };
    const longer = { ...r, status: { ...r.status, expiresAt: "2026-11-25T23:00:00Z" } };
    const wider = { ...r, status: { ...r.status, approved: { targets: [JUMP], ports: [] } } };
    const copied = { ...r, metadata: { ...r.metadata, uid: "req-uid-2" } };
    const source = { ...r, spec: { ...r.spec, sourceAddressPrefix: "203.0.113.0/24" } };
    const ports = { ...r, spec: { ...r.spec, ports: [22, 3389] } };
    const duration = { ...r, spec: { ...r.spec, duration: "PT3H" } };
    for (const forged of [later, longer, wider, copied, source, ports, duration]) {
      expect(verifyApproval(KEY, forged)).toBe(false);
    }
  });

  it("never verify a status that differs from the signed one (property)", () => {
    const iso = fc
      .date({
        min: new Date("2026-01-01T00:00:00Z"),
        max: new Date("2027-01-01T00:00:00Z"),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
    fc.assert(
      fc.property(iso, iso, iso, iso, (s1, e1, s2, e2) => {
        const r = signed(request(approval(s1, e1)));
        const forged = { ...r, status: { ...r.status, startTime: s2, expiresAt: e2 } };
        expect(verifyApproval(KEY, forged)).toBe(s1 === s2 && e1 === e2);
      }),
      { numRuns },
    );
  });
});

describe("legacy approvals (older than the key)", () => {
  it("count while they started before the key and end within a day of it", () => {
    const old = request(approval("2026-11-24T11:30:00Z", "2026-11-24T12:30:00Z"));
    expect(isLegacyApproval(old, KEY_CREATED)).toBe(true);
  });

  it("do not count when they start after the key was created (a forged approval)", () => {
    expect(isLegacyApproval(request(), KEY_CREATED)).toBe(false);
  });

  it("never reach past a day after the key, whatever expiresAt says", () => {
    const start = new Date(KEY_CREATED.getTime() - 1000);
    const far = new Date(KEY_CREATED.getTime() + LEGACY_APPROVAL_MAX_MS + 1000);
    const r = request(approval(start.toISOString(), far.toISOString()), { duration: "P2D" });
    expect(isLegacyApproval(r, KEY_CREATED)).toBe(false);
  });
});

describe("activeGrants with the verifier", () => {
  const isAuthentic = approvalVerifier(SIGNING);

  it("opens a signed approval", () => {
    expect(activeGrants([policy()], [signed(request())], NOW, isAuthentic).grants).toHaveLength(1);
  });

  it("opens nothing for an unsigned or forged approval", () => {
    const forged = {
      ...signed(request()),
      status: { ...signed(request()).status, approvalSignature: "v1.00" },
    };
    expect(activeGrants([policy()], [request()], NOW, isAuthentic).grants).toEqual([]);
    expect(activeGrants([policy()], [forged], NOW, isAuthentic).grants).toEqual([]);
    expect(activeGrants([policy()], [signed(request(), OTHER)], NOW, isAuthentic).grants).toEqual([]);
  });

  it("does not follow a startTime moved later: the signature breaks and nothing stays open", () => {
    const r = signed(request());
    const moved = { ...r, status: { ...r.status, startTime: "2026-11-25T12:29:00Z" } };
    expect(activeGrants([policy()], [moved], NOW, isAuthentic).grants).toEqual([]);
  });

  it("caps a signed approval by startTime + spec.duration, even when expiresAt says later", () => {
    const r = signed(request(approval("2026-11-25T12:00:00Z", "2026-11-26T12:00:00Z")));
    const [g] = activeGrants([policy()], [r], NOW, isAuthentic).grants;
    expect(g?.expiresAt.toISOString()).toBe("2026-11-25T13:00:00.000Z");
  });
});

describe("resolved-target signatures", () => {
  const targets: ResolvedTargetStatus[] = [
    { id: VM, privateIpAddresses: ["10.0.1.4"], networkSecurityGroupIds: [NIC] },
  ];
  const pol = (t: ResolvedTargetStatus[], sig: string, uid = "pol-uid-1"): JitPolicy => ({
    ...policy(),
    metadata: { ...policy().metadata, uid },
    status: { targets: t, targetsSignature: sig },
  });

  it("verify for the policy they were resolved for", () => {
    expect(verifyTargets(KEY, pol(targets, signTargets(KEY, "pol-uid-1", targets)))).toBe(true);
  });

  it("do not verify when the NSG ids or IPs are changed, for another policy, or unsigned", () => {
    const sig = signTargets(KEY, "pol-uid-1", targets);
    const aimed = [{ ...targets[0], id: VM, networkSecurityGroupIds: [JUMP] }];
    const ips = [{ ...targets[0], id: VM, privateIpAddresses: ["10.0.9.9"] }];
    expect(verifyTargets(KEY, pol(aimed, sig))).toBe(false);
    expect(verifyTargets(KEY, pol(ips, sig))).toBe(false);
    expect(verifyTargets(KEY, pol(targets, sig, "pol-uid-2"))).toBe(false);
    expect(verifyTargets(KEY, { ...policy(), status: { targets } })).toBe(false);
  });

  it("never verify a request signature as a policy one", () => {
    const r = signed(request());
    expect(verifyTargets(KEY, pol([], r.status?.approvalSignature ?? ""))).toBe(false);
  });
});
