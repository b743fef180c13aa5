// What the reconciler feeds the decision about renewals, from the request cache (ADR 0013).
import { describe, expect, it } from "@jest/globals";
import type { AccessRequest } from "../../../../src/api/types.ts";
import { renewalFacts } from "../../../../src/operator/request/renewal-facts.ts";
import type { RenewalSources } from "../../../../src/operator/request/renewal-facts.ts";
import { policy, request } from "../fixtures.ts";

const NOW = new Date("2026-01-01T02:00:00Z");
const ACTIVE = {
  phase: "Active" as const,
  startTime: "2026-01-01T01:30:00Z",
  expiresAt: "2026-01-01T02:30:00Z",
};

function renewal(name: string, status?: AccessRequest["status"], supersedes = "alice-1"): AccessRequest {
  const r = request(status, { name });
  r.spec = { ...r.spec, supersedes };
  return r;
}

function sources(all: AccessRequest[], authentic = (_r: AccessRequest): boolean => true): RenewalSources {
  return {
    request: (key) => all.find((r) => `${r.metadata.namespace ?? ""}/${r.metadata.name ?? ""}` === key),
    renewalsOf: (namespace, name) =>
      all.filter((r) => r.metadata.namespace === namespace && r.spec.supersedes === name),
    isAuthentic: authentic,
  };
}

describe("renewalFacts", () => {
  it("gives an undecided renewal the older request and narrows its snapshot", () => {
    const older = request({ ...ACTIVE, approved: { targets: [], ports: [{ number: 22, protocol: "TCP" }] } });
    const newer = renewal("alice-2");
    const f = renewalFacts(newer, policy(), NOW, 3_600_000, sources([older, newer]));
    expect(f.renewal?.()).toEqual({ ok: true, chainStartTime: ACTIVE.startTime, renewals: 1 });
    expect(f.approvedSnapshot?.()?.targets).toEqual([]);
  });

  it("refuses a renewal when another open approved one exists, not when that one closed", () => {
    const older = request(ACTIVE);
    const newer = renewal("alice-3");
    const rival = renewal("alice-2", { ...ACTIVE, phase: "Pending" });
    const f = renewalFacts(newer, policy(), NOW, 60_000, sources([older, rival, newer]));
    expect(f.renewal?.()).toMatchObject({ ok: false, reason: "AlreadySuperseded" });
    const closed = renewal("alice-2", { ...ACTIVE, phase: "Revoked" });
    const g = renewalFacts(newer, policy(), NOW, 60_000, sources([older, closed, newer]));
    expect(g.renewal?.()).toMatchObject({ ok: true });
  });

  it("names the Active, authentic renewal of an Active request, and only that", () => {
    const older = request(ACTIVE);
    expect(
      renewalFacts(older, policy(), NOW, 1, sources([older, renewal("alice-2", ACTIVE)])).supersededBy,
    ).toBe("alice-2");
    const pending = renewal("alice-2", { ...ACTIVE, phase: "Pending" });
    expect(renewalFacts(older, policy(), NOW, 1, sources([older, pending])).supersededBy).toBeUndefined();
    const forged = renewal("alice-2", ACTIVE);
    const notMine = (r: AccessRequest): boolean => r.metadata.name !== "alice-2";
    expect(
      renewalFacts(older, policy(), NOW, 1, sources([older, forged], notMine)).supersededBy,
    ).toBeUndefined();
    const wider = renewal("alice-2", ACTIVE);
    wider.spec.sourceAddressPrefix = "203.0.113.0/24";
    expect(renewalFacts(older, policy(), NOW, 1, sources([older, wider])).supersededBy).toBeUndefined();
  });
});
