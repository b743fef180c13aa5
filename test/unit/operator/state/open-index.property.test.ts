// The open-request index must count exactly what countOpenAhead counts over the whole cache.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { AccessRequest, AccessRequestStatus } from "../../../../src/api/types.ts";
import { countOpenAhead } from "../../../../src/operator/request/decision.ts";
import { OpenRequestIndex } from "../../../../src/operator/state/open-index.ts";
import { request } from "../fixtures.ts";

const T = ["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"];

const statuses: (AccessRequestStatus | undefined)[] = [
  undefined,
  { phase: "Pending" },
  { phase: "Pending", startTime: T[0], expiresAt: T[2] },
  { phase: "Active", startTime: T[0], expiresAt: T[2] },
  { phase: "Expired", startTime: T[0] },
  { phase: "Denied", reason: "RequesterLimitExceeded" },
  { phase: "Revoked" },
];

const shape = fc.record({
  name: fc.constantFrom("a", "b", "c", "d", "e", "f"),
  namespace: fc.constantFrom("team-a", "team-b"),
  requester: fc.constantFrom("alice", "bob"),
  created: fc.constantFrom(...T),
  status: fc.integer({ min: 0, max: statuses.length - 1 }),
  revoked: fc.boolean(),
  deleting: fc.boolean(),
  supersedes: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }),
  inFlight: fc.boolean(),
});

type Shape = typeof shape extends fc.Arbitrary<infer S> ? S : never;

function build(s: Shape): AccessRequest {
  const r = request(statuses[s.status], {
    name: s.name,
    namespace: s.namespace,
    creationTimestamp: s.created,
  });
  r.spec.requester = s.requester;
  if (s.revoked) r.spec.revoked = true;
  if (s.deleting) r.metadata.deletionTimestamp = T[2];
  if (s.supersedes !== undefined) r.spec.supersedes = s.supersedes;
  return r;
}

const keyOf = (r: AccessRequest): string => `${r.metadata.namespace ?? ""}/${r.metadata.name ?? ""}`;

describe("OpenRequestIndex", () => {
  it("counts what countOpenAhead counts, after any sequence of adds, updates and deletes", () => {
    const op = fc.record({ shape, deleted: fc.boolean() });
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 40 }),
        fc.array(shape, { minLength: 1, maxLength: 4 }),
        (ops, asks) => {
          const index = new OpenRequestIndex();
          const cache = new Map<string, AccessRequest>();
          const inFlight = new Set<string>();
          for (const o of ops) {
            const r = build(o.shape);
            if (o.deleted) cache.delete(keyOf(r));
            else cache.set(keyOf(r), r);
            index.update(r, o.deleted);
            if (o.shape.inFlight) inFlight.add(keyOf(r));
            else inFlight.delete(keyOf(r));
          }
          // Every cached request, and a few that are not cached (yet), is counted the same both ways.
          for (const me of [...cache.values(), ...asks.map(build)]) {
            const scanned = countOpenAhead(me, cache.values(), (x) => inFlight.has(keyOf(x)));
            expect(index.openAhead(me, inFlight)).toEqual(scanned);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("forgets a request once it is deleted or closed", () => {
    const index = new OpenRequestIndex();
    const a = build({
      name: "a",
      namespace: "team-a",
      requester: "alice",
      created: T[0] ?? "",
      status: 3,
      revoked: false,
      deleting: false,
      supersedes: undefined,
      inFlight: false,
    });
    index.update(a, false);
    const me = request(undefined, { name: "z", creationTimestamp: T[2] });
    expect(index.openAhead(me, [])).toEqual({ requester: 1, namespace: 1 });
    index.update({ ...a, status: { phase: "Expired", startTime: T[0] } }, false);
    expect(index.openAhead(me, [])).toEqual({ requester: 0, namespace: 0 });
    expect(index.size).toBe(0);
  });
});
