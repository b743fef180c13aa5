// The source-union bound read from the grant index's per-rule unions must equal sourceUnionIssue over
// the policy's active grants plus the approvals in flight the index does not hold (the reference).
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { AccessRequest, JitPolicy } from "../../../../src/api/types.ts";
import type { Grant } from "../../../../src/core/index.ts";
import { sourceUnionIssue } from "../../../../src/core/source-union.ts";
import type { Issue } from "../../../../src/core/types.ts";
import { sourceUnionOf } from "../../../../src/operator/request/source-union-facts.ts";
import { GrantIndex } from "../../../../src/operator/state/grant-index.ts";
import { VM, policy, request } from "../fixtures.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");
const PK = "team-a/web-admin";
const NAMES = ["a", "b", "c", "d", "e", "f"];
const SOURCES = [
  "198.51.100.0/24",
  "198.51.101.0/24",
  "198.51.102.0/24",
  "198.51.100.7/32",
  "198.51.96.0/21",
  "203.0.113.9/32",
  "2001:db8::/48",
  "*",
];

function tight(): JitPolicy {
  const p = policy();
  const [ssh, rdp] = p.spec.ports;
  if (ssh === undefined || rdp === undefined) throw new Error("fixture policy has two ports");
  ssh.allowedSourceAddressPrefixes = undefined;
  ssh.sourceUnionPrefixLength = { ipv4: 23 };
  rdp.sourceUnionPrefixLength = { ipv4: 22 };
  return p;
}

function ask(
  name: string,
  source: string,
  ports: readonly number[],
  status?: AccessRequest["status"],
): AccessRequest {
  const r = request(status, { name });
  r.spec.sourceAddressPrefix = source;
  r.spec.ports = [...ports];
  return r;
}

/** The grants in flight as ApprovalsInFlight lists them: one list per request. */
function approvals(grants: Grant[]): Grant[][] {
  const by = new Map<string, Grant[]>();
  for (const g of grants) by.set(g.requestKey, [...(by.get(g.requestKey) ?? []), g]);
  return [...by.values()];
}

function reference(
  r: AccessRequest,
  p: JitPolicy,
  index: GrantIndex,
  inFlight: Grant[],
  now: Date,
): Issue | undefined {
  // What the request reconciler did before the unions were kept.
  const peers = [...index.forPolicy(PK, now)];
  const indexed = new Set(peers.map((g) => g.requestKey));
  for (const g of inFlight) if (g.policyKey === PK && !indexed.has(g.requestKey)) peers.push(g);
  return sourceUnionIssue(r, p, peers);
}

describe("sourceUnionOf", () => {
  it("equals sourceUnionIssue over the active grants and the approvals in flight, as grants come, go and expire", () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant("put" as const),
        name: fc.constantFrom(...NAMES),
        source: fc.constantFrom(...SOURCES),
        ports: fc.constantFrom([22], [3389], [22, 3389]),
        minutes: fc.integer({ min: 1, max: 30 }),
      }),
      fc.record({ kind: fc.constant("delete" as const), name: fc.constantFrom(...NAMES) }),
      fc.record({ kind: fc.constant("tick" as const), minutes: fc.integer({ min: 0, max: 10 }) }),
      fc.record({
        kind: fc.constant("flight" as const),
        name: fc.constantFrom(...NAMES, "x", "y"),
        source: fc.constantFrom(...SOURCES),
        upper: fc.boolean(),
      }),
    );
    const question = fc.record({
      name: fc.constantFrom(...NAMES, "z"),
      source: fc.constantFrom(...SOURCES, "198.51.103.0/24", "198.51.100.128/25"),
      ports: fc.constantFrom([22], [3389], [22, 3389]),
    });
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 30 }),
        fc.array(question, { minLength: 1, maxLength: 4 }),
        (steps, questions) => {
          const p = tight();
          const requests = new Map<string, AccessRequest>();
          const index = new GrantIndex({
            policy: () => p,
            request: (k) => requests.get(k),
            requestsOf: () => [...requests.keys()],
            isAuthentic: () => true,
          });
          index.reset([]);
          const inFlight: Grant[] = [];
          let now = T0;
          for (const s of steps) {
            if (s.kind === "put") {
              const status = {
                phase: "Active" as const,
                startTime: new Date(now).toISOString(),
                expiresAt: new Date(now + s.minutes * 60_000).toISOString(),
              };
              requests.set(`team-a/${s.name}`, ask(s.name, s.source, s.ports, status));
              index.invalidateRequest(`team-a/${s.name}`);
            } else if (s.kind === "delete") {
              requests.delete(`team-a/${s.name}`);
              index.invalidateRequest(`team-a/${s.name}`);
            } else if (s.kind === "tick") {
              now += s.minutes * 60_000;
            } else {
              const targetId = s.upper ? VM.toUpperCase() : VM;
              inFlight.push({
                requestKey: `team-a/${s.name}`,
                policyKey: PK,
                targetId,
                port: 3389,
                protocol: "TCP",
                sourcePrefix: s.source,
                expiresAt: new Date(now + 3_600_000),
              });
            }
            const t = new Date(now);
            for (const q of questions) {
              const r = ask(q.name, q.source, q.ports);
              expect(sourceUnionOf(r, p, PK, index, approvals(inFlight), t)).toEqual(
                reference(r, p, index, inFlight, t),
              );
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("denies the request that would cross the bound, and counts an approval in flight once", () => {
    const p = tight();
    const requests = new Map<string, AccessRequest>();
    const index = new GrantIndex({
      policy: () => p,
      request: (k) => requests.get(k),
      requestsOf: () => [...requests.keys()],
      isAuthentic: () => true,
    });
    const status = {
      phase: "Active" as const,
      startTime: new Date(T0).toISOString(),
      expiresAt: new Date(T0 + 3_600_000).toISOString(),
    };
    for (const [i, n] of ["a", "b", "c", "d"].entries())
      requests.set(`team-a/${n}`, ask(n, `198.51.${100 + i}.0/24`, [3389], status));
    index.reset(requests.keys());
    const now = new Date(T0 + 60_000);
    const fifth = ask("z", "198.51.104.0/24", [3389]);
    expect(sourceUnionOf(fifth, p, PK, index, [], now)?.reason).toBe("SourceUnionTooWide");
    expect(sourceUnionOf(ask("z", "198.51.101.0/24", [3389]), p, PK, index, [], now)).toBeUndefined();
    // An approval in flight of a request the index does not hold yet fills the rule too.
    requests.delete("team-a/d");
    index.invalidateRequest("team-a/d");
    expect(sourceUnionOf(fifth, p, PK, index, [], now)).toBeUndefined();
    const flying: Grant = {
      requestKey: "team-a/d",
      policyKey: PK,
      targetId: VM,
      port: 3389,
      protocol: "TCP",
      sourcePrefix: "198.51.103.0/24",
      expiresAt: new Date(T0 + 3_600_000),
    };
    expect(sourceUnionOf(fifth, p, PK, index, [[flying]], now)?.reason).toBe("SourceUnionTooWide");
  });
});
