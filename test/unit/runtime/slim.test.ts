// The informer caches' transform (src/runtime/slim.ts): it drops exactly managedFields and the
// listed annotations, and nothing the operator's decisions read. The second part records every
// property path that the request state machine, the grant derivation and the approval snapshot read
// of a request and its policy, and fails when slimming changes any of them.
import { describe, expect, test } from "@jest/globals";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { AccessRequest, JitPolicy } from "../../../src/api/types.ts";
import { activeGrants, approvalSnapshot, grantExpiry, requestGrants } from "../../../src/core/grants.ts";
import { decideRequest } from "../../../src/operator/request/decision.ts";
import type { RequestFacts } from "../../../src/operator/request/decision.ts";
import { isGrantCandidate } from "../../../src/operator/state/grant-index.ts";
import { Interner } from "../../../src/runtime/intern.ts";
import { PartTable } from "../../../src/runtime/share.ts";
import type { SharingTables } from "../../../src/runtime/slim.ts";
import { DROPPED_ANNOTATIONS, slim } from "../../../src/runtime/slim.ts";
import { policy, request } from "../operator/fixtures.ts";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const NOW = new Date("2026-01-01T00:30:00Z");

/** As the API server sends them: managedFields, kubectl's copy and an annotation of someone else. */
function withServerMetadata<T extends AccessRequest | JitPolicy>(obj: T): T {
  const copy = structuredClone(obj);
  copy.metadata.annotations = { [LAST_APPLIED]: JSON.stringify(obj), "team.example/owner": "alice" };
  (copy.metadata as { managedFields?: unknown[] }).managedFields = [
    { manager: "kubectl", operation: "Apply" },
  ];
  return copy;
}

function activeRequest(): AccessRequest {
  return request({
    phase: "Active",
    startTime: "2026-01-01T00:00:00Z",
    expiresAt: "2026-01-01T01:00:00Z",
    observedGeneration: 1,
    conditions: [
      {
        type: "Approved",
        status: "True",
        reason: "PolicyAllows",
        message: "allowed",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ],
    rules: [
      {
        networkSecurityGroupId: "/nsg/a",
        ruleName: "drawbridge-a",
        priority: 100,
        port: 22,
        protocol: "TCP",
      },
    ],
    reason: "Granted",
    message: "open",
  });
}

/** A deep proxy that records every property path read through it ("status.rules.0.port"). */
function recording<T extends object>(obj: T, seen: Set<string>, path = ""): T {
  return new Proxy(obj, {
    get(target, key, receiver): unknown {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof key === "symbol") return value;
      const p = path === "" ? key : `${path}.${key}`;
      seen.add(p);
      return typeof value === "object" && value !== null ? recording(value, seen, p) : value;
    },
  });
}

function at(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

/** What the request and grant decisions make of a request and its policy (`placed`: the ledger's rules). */
function decide(r: AccessRequest, p: JitPolicy, placed: AccessRequest["status"] = r.status): unknown[] {
  const facts: RequestFacts = {
    request: r,
    now: NOW,
    verdict: { allowed: true },
    durationMs: 3_600_000,
    activeGrantCount: 1,
    placement: { complete: true, rules: placed?.rules ?? [] },
    rejected: undefined,
    failed: undefined,
    cleared: false,
    retentionMs: 86_400_000,
    deniedRetentionMs: 3_600_000,
    limits: { perRequester: 10, perNamespace: 200 },
    openAhead: () => ({ requester: 0, namespace: 0 }),
    guard: { ok: true },
  };
  return [
    decideRequest(facts),
    activeGrants([p], [r], NOW),
    requestGrants(r, p),
    approvalSnapshot(r, p),
    grantExpiry(r),
    isGrantCandidate(r),
  ];
}

/** Paths the decisions read of a request and of its policy. */
function pathsRead(req: AccessRequest, pol: JitPolicy): { request: Set<string>; policy: Set<string> } {
  const seen = { request: new Set<string>(), policy: new Set<string>() };
  // The ledger's rules are not read of the request: they come in unrecorded.
  decide(recording(req, seen.request), recording(pol, seen.policy), req.status);
  return seen;
}

/**
 * Every path read of `original` whose value was used as a whole (no deeper read of it recorded) has
 * the same value in `slimmed`; returns the paths that differ.
 */
function changedReads(paths: Set<string>, original: object, slimmed: object): string[] {
  const all = [...paths];
  const leaves = all.filter((p) => !all.some((q) => q.startsWith(`${p}.`)));
  return leaves.filter((p) => JSON.stringify(at(original, p)) !== JSON.stringify(at(slimmed, p)));
}

/**
 * slim() on the drawbridge types (their timestamps are strings, client-node's are Dates); with
 * `tables`, interning and sharing too, through tables that already hold the fixtures' strings and parts.
 */
function slimmed<T extends AccessRequest | JitPolicy>(obj: T, tables?: SharingTables): T {
  return slim(structuredClone(obj) as unknown as KubernetesObject, tables) as unknown as T;
}

function warmTables(): SharingTables {
  const tables = { strings: new Interner(), parts: new PartTable() };
  slim(structuredClone(withServerMetadata(policy())) as unknown as KubernetesObject, tables);
  slim(structuredClone(withServerMetadata(activeRequest())) as unknown as KubernetesObject, tables);
  return tables;
}

describe("slim", () => {
  test.each([
    ["", undefined],
    [" (interning and sharing)", warmTables()],
  ])("drops managedFields and the listed annotations, and nothing else%s", (_, table) => {
    for (const obj of [activeRequest(), policy()]) {
      const served = withServerMetadata(obj);
      const slim1 = slimmed(served, table);
      const expected = structuredClone(served);
      delete (expected.metadata as { managedFields?: unknown }).managedFields;
      for (const key of DROPPED_ANNOTATIONS) delete expected.metadata.annotations?.[key];
      expect(slim1).toEqual(expected);
      expect(slim1.metadata.annotations).toEqual({ "team.example/owner": "alice" });
    }
    expect(DROPPED_ANNOTATIONS).toContain(LAST_APPLIED);
  });

  test("removes an annotations map left empty, and leaves objects without metadata alone", () => {
    const served = withServerMetadata(activeRequest());
    delete served.metadata.annotations?.["team.example/owner"];
    expect(slimmed(served).metadata.annotations).toBeUndefined();
    expect(slim({ kind: "X" })).toEqual({ kind: "X" });
  });

  test.each([
    ["", undefined],
    [" (interning and sharing)", warmTables()],
  ])("keeps every field the request and grant decisions read%s", (_, table) => {
    const req = withServerMetadata(activeRequest());
    const pol = withServerMetadata(policy());
    const read = pathsRead(structuredClone(req), structuredClone(pol));
    // The recorder sees the reads that matter (or this test would prove nothing).
    for (const p of ["status.phase", "status.expiresAt", "status.rules", "spec.ports", "metadata.name"])
      expect(read.request).toContain(p);
    expect(read.policy).toContain("spec.ports");
    expect(changedReads(read.request, req, slimmed(req, table))).toEqual([]);
    expect(changedReads(read.policy, pol, slimmed(pol, table))).toEqual([]);
  });

  test("the decisions come out the same on objects whose parts are shared (frozen)", () => {
    const req = withServerMetadata(activeRequest());
    const pol = withServerMetadata(policy());
    const tables = warmTables();
    const shared = [slimmed(req, tables), slimmed(pol, tables)] as const;
    // The parts really are shared with the objects slimmed before (or this would prove nothing).
    expect(Object.isFrozen(shared[1].spec.ports)).toBe(true);
    expect(decide(...shared)).toEqual(decide(slimmed(req), slimmed(pol)));
  });

  test("the read check catches a transform that drops a field a decision reads", () => {
    const req = withServerMetadata(activeRequest());
    const read = pathsRead(structuredClone(req), policy());
    const tooSlim = slimmed(req);
    delete tooSlim.status?.rules;
    expect(changedReads(read.request, req, tooSlim)).toContain("status.rules");
  });
});
