import { describe, expect, it } from "@jest/globals";
import {
  ARRIVAL_SETTLE_MS,
  holdLeft,
  holdMs,
  UndecidedRequests,
  WriteLatency,
} from "../../../../src/operator/nsg/batching.ts";
import type { HoldInput } from "../../../../src/operator/nsg/batching.ts";
import type { Grant } from "../../../../src/core/index.ts";
import type { NsgRecord } from "../../../../src/operator/state/ledger.ts";
import { nsgRecord } from "../fixtures.ts";
import type { AccessRequest } from "../../../../src/api/types.ts";

function req(name: string, policyName: string, phase?: string): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { name, namespace: "team-a" },
    spec: { policyName, ports: [22], sourceAddressPrefix: "198.51.100.7/32", duration: "PT1H" },
    ...(phase === undefined ? {} : { status: { phase } }),
  } as AccessRequest;
}

function grant(requestKey: string): Grant {
  return {
    requestKey,
    policyKey: "team-a/p",
    targetId: "vm",
    port: 22,
    protocol: "TCP",
    sourcePrefix: "198.51.100.7/32",
    expiresAt: new Date(10_000_000),
  };
}

function record(placed: string[]): NsgRecord {
  return nsgRecord({ placements: new Map(placed.map((k) => [k, { rules: [], expiresAt: 10_000_000 }])) });
}

const base: HoldInput = {
  undecided: 3,
  settleLeftMs: 0,
  grants: [grant("team-a/a"), grant("team-a/b")],
  prev: record(["team-a/a"]),
  maxHoldMs: 500,
};

describe("UndecidedRequests", () => {
  it("counts requests without a phase per policy and reports when a policy's last one is decided", () => {
    const u = new UndecidedRequests();
    expect(u.update("team-a/a", req("a", "p"), false, 0)).toBeUndefined();
    expect(u.update("team-a/b", req("b", "p"), false, 0)).toBeUndefined();
    expect(u.update("team-a/c", req("c", "q"), false, 0)).toBeUndefined();
    expect(u.count("team-a/p")).toBe(2);
    expect(u.update("team-a/a", req("a", "p", "Pending"), false, 0)).toBeUndefined();
    expect(u.count("team-a/p")).toBe(1);
    expect(u.update("team-a/b", req("b", "p"), true, 0)).toBe("team-a/p");
    expect(u.count("team-a/p")).toBe(0);
    expect(u.update("team-a/c", req("c", "q", "Denied"), false, 0)).toBe("team-a/q");
    // Decided again or unknown: nothing to report.
    expect(u.update("team-a/c", req("c", "q", "Denied"), false, 0)).toBeUndefined();
  });

  it("remembers when a policy's latest new request arrived", () => {
    const u = new UndecidedRequests();
    expect(u.settleLeft("team-a/p", 1000)).toBe(0);
    u.update("team-a/a", req("a", "p"), false, 1000);
    expect(u.settleLeft("team-a/p", 1050)).toBe(ARRIVAL_SETTLE_MS - 50);
    // A status change of a known request is not an arrival.
    u.update("team-a/a", req("a", "p"), false, 1100);
    expect(u.settleLeft("team-a/p", 1100)).toBe(ARRIVAL_SETTLE_MS - 100);
    expect(u.settleLeft("team-a/p", 1000 + ARRIVAL_SETTLE_MS + 1)).toBeLessThan(0);
  });
});

describe("holdMs", () => {
  it("holds an add-only reconcile while requests are undecided, up to the cap", () => {
    expect(holdMs(base)).toBe(500);
    // A hold begun 200 ms ago (of a 500 ms cap) has 300 ms left; one begun 600 ms ago is over.
    expect(holdLeft(500 - 200, base.undecided, base.settleLeftMs)).toBe(300);
    expect(holdLeft(500 - 600, base.undecided, base.settleLeftMs)).toBe(0);
  });

  it("goes at once when nothing is undecided, batching is off, or nothing is added", () => {
    expect(holdMs({ ...base, undecided: 0 })).toBe(0);
    expect(holdMs({ ...base, maxHoldMs: 0 })).toBe(0);
    expect(holdMs({ ...base, grants: [grant("team-a/a")] })).toBe(0);
  });

  it("never holds a removal, even with adds pending", () => {
    expect(holdMs({ ...base, prev: record(["team-a/a", "team-a/gone"]) })).toBe(0);
  });

  it("with nothing undecided, holds only for the rest of the arrival settle period", () => {
    expect(holdMs({ ...base, undecided: 0, settleLeftMs: 120 })).toBe(120);
    expect(holdMs({ ...base, undecided: 0, settleLeftMs: 900 })).toBe(500);
    expect(holdMs({ ...base, undecided: 0, settleLeftMs: -5 })).toBe(0);
    expect(holdLeft(300, 0, 50)).toBe(50);
    expect(holdLeft(300, 2, 50)).toBe(300);
    expect(holdLeft(0, 2, 50)).toBe(0);
  });

  it("holds the first reconcile of an NSG with grants to add", () => {
    expect(holdMs({ ...base, prev: undefined })).toBe(500);
  });
});

describe("WriteLatency", () => {
  it("starts at the seed and follows observed writes with a weighted mean", () => {
    const w = new WriteLatency(500, 0.5);
    expect(w.meanMs).toBe(500);
    w.observe(1000);
    expect(w.meanMs).toBe(1000);
    w.observe(0);
    expect(w.meanMs).toBe(500);
    w.observe(Number.NaN);
    w.observe(-5);
    expect(w.meanMs).toBe(500);
  });
});
