// The informer caches' transform (src/runtime/slim.ts): it drops exactly managedFields and the
// listed annotations, and nothing the operator's decisions read. The second part records every
// property path that the request state machine, the grant derivation and the approval snapshot read
// of a request and its policy, and fails when slimming changes any of them.
import { describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { AccessRequest, AccessRequestStatus, Condition, JitPolicy } from "../../../src/api/types.ts";
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

/** Requests in the states the operator caches, served with managedFields anywhere in metadata. */
const TIMES = ["2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z", "2026-01-01T01:00:00Z"];
const condition = fc.record({
  type: fc.constantFrom("Approved", "Granted", "Reconciling", "Stalled"),
  status: fc.constantFrom("True" as const, "False" as const),
  reason: fc.constantFrom("PolicyAllows", "RulesInPlace", "Reconciled"),
  message: fc.constantFrom("allowed", "every target NSG carries the grant", ""),
  lastTransitionTime: fc.constantFrom(...TIMES),
  observedGeneration: fc.constantFrom(1, 2),
}) as fc.Arbitrary<Condition>;
const rule = fc.record({
  networkSecurityGroupId: fc.constantFrom("/nsg/a", "/nsg/b"),
  ruleName: fc.constantFrom("drawbridge-a", "drawbridge-b"),
  priority: fc.constantFrom(100, 101),
  port: fc.constantFrom(22, 443),
  protocol: fc.constantFrom("TCP" as const, "UDP" as const),
});
const status: fc.Arbitrary<AccessRequestStatus | undefined> = fc.option(
  fc.record(
    {
      phase: fc.constantFrom("Pending" as const, "Active" as const, "Expired" as const, "Revoked" as const),
      startTime: fc.constantFrom(...TIMES),
      expiresAt: fc.constantFrom(...TIMES),
      observedGeneration: fc.constantFrom(1, 2),
      conditions: fc.array(condition, { maxLength: 5 }),
      rules: fc.array(rule, { maxLength: 3 }),
      reason: fc.constantFrom("Granted", "Approved"),
      message: fc.constantFrom("open", "access open until 2026-01-01T01:00:00Z"),
      approved: fc.record({
        targets: fc.constant(["/nsg/a"]),
        ports: fc.constant([{ number: 22, protocol: "TCP" as const }]),
      }),
      approvalSignature: fc.constantFrom("v1.aa", "v1.bb"),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);
const served = fc
  .record({
    status,
    ports: fc.subarray([22, 443, 3389], { minLength: 1 }),
    revoked: fc.boolean(),
    deleting: fc.boolean(),
    labels: fc.boolean(),
    lastApplied: fc.boolean(),
    managedAt: fc.nat(12),
  })
  .map((o) => {
    const r = activeRequest();
    if (o.status === undefined) delete r.status;
    else r.status = o.status;
    r.spec.ports = o.ports;
    if (o.revoked) r.spec.revoked = true;
    const meta: Record<string, unknown> = { ...r.metadata, uid: "0f1e2d3c-aaaa-bbbb-cccc-000000000001" };
    if (o.deleting) meta["deletionTimestamp"] = TIMES[1];
    if (o.labels) meta["labels"] = { team: "a" };
    if (o.lastApplied) meta["annotations"] = { [LAST_APPLIED]: "{}", "team.example/owner": "alice" };
    const entries = Object.entries(meta);
    entries.splice(Math.min(o.managedAt, entries.length), 0, ["managedFields", [{ manager: "kubectl" }]]);
    r.metadata = Object.fromEntries(entries);
    return r;
  });

describe("slim, over generated requests", () => {
  test("keeps every value and the order of metadata, and the decisions come out the same", () => {
    const tables = warmTables();
    const pol = slimmed(withServerMetadata(policy()), tables);
    fc.assert(
      fc.property(served, (req) => {
        const expected = structuredClone(req);
        delete (expected.metadata as { managedFields?: unknown }).managedFields;
        if (expected.metadata.annotations !== undefined)
          expected.metadata.annotations = { "team.example/owner": "alice" };
        const out = slimmed(req, tables);
        expect(out).toEqual(expected);
        expect(Object.keys(out.metadata)).toEqual(Object.keys(expected.metadata));
        expect(JSON.stringify(out)).toBe(JSON.stringify(expected));
        const read = pathsRead(structuredClone(req), policy());
        expect(changedReads(read.request, req, out)).toEqual([]);
        expect(decide(out, pol)).toEqual(decide(expected, pol));
      }),
      { numRuns: 300 },
    );
  });
});
