// The incremental grant index must always equal what the core computes from the whole cache.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { AccessRequest, JitPolicy } from "../../../../src/api/types.ts";
import { activeGrants } from "../../../../src/core/index.ts";
import { GrantIndex, isGrantCandidate } from "../../../../src/operator/state/grant-index.ts";
import { JUMP_NSG, policy, request } from "../fixtures.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");

function approved(name: string, policyName: string, startMs: number, minutes: number): AccessRequest {
  const r = request(
    {
      phase: "Active",
      startTime: new Date(startMs).toISOString(),
      expiresAt: new Date(startMs + minutes * 60_000).toISOString(),
    },
    { name },
  );
  r.spec.policyName = policyName;
  r.spec.sourceAddressPrefix = `203.0.113.${(name.length * 7) % 250}/32`;
  return r;
}

class World {
  readonly policies = new Map<string, JitPolicy>();
  readonly requests = new Map<string, AccessRequest>();
  readonly index = new GrantIndex({
    policy: (k) => this.policies.get(k),
    request: (k) => this.requests.get(k),
    requestsOf: (p) =>
      [...this.requests.entries()].filter(([, r]) => `team-a/${r.spec.policyName}` === p).map(([k]) => k),
    isAuthentic: () => true,
  });

  expected(now: Date): ReturnType<typeof activeGrants>["grants"] {
    const live = [...this.policies.values()].filter((p) => p.metadata.deletionTimestamp === undefined);
    return activeGrants(live, [...this.requests.values()].filter(isGrantCandidate), now).grants;
  }

  actual(now: Date): ReturnType<typeof activeGrants>["grants"] {
    return [...this.policies.keys()].sort().flatMap((k) => this.index.forPolicy(k, now));
  }
}

function namedPolicy(name: string, gen = 1): JitPolicy {
  const p = policy();
  p.metadata.name = name;
  p.metadata.generation = gen;
  return p;
}

describe("GrantIndex", () => {
  it("follows request changes, policy changes and the clock", () => {
    const w = new World();
    w.policies.set("team-a/p", namedPolicy("p"));
    w.requests.set("team-a/a", approved("a", "p", T0, 10));
    w.requests.set("team-a/b", approved("bb", "p", T0, 20));
    w.index.reset(w.requests.keys());
    const at = (min: number): Date => new Date(T0 + min * 60_000);
    expect(w.actual(at(1))).toEqual(w.expected(at(1)));
    expect(w.index.forRequest("team-a/a", at(1)).length).toBeGreaterThan(0);
    expect(w.index.activeRequests(at(1))).toBe(2);
    // The clock passes a's expiry: only b is left, with no invalidation.
    expect(w.actual(at(15))).toEqual(w.expected(at(15)));
    expect(w.index.forRequest("team-a/a", at(15))).toEqual([]);
    // b is revoked.
    const b = approved("bb", "p", T0, 20);
    b.spec.revoked = true;
    w.requests.set("team-a/b", b);
    w.index.invalidateRequest("team-a/b");
    expect(w.actual(at(15))).toEqual([]);
    // A request that arrived before its policy is granted once the policy appears.
    w.requests.set("team-a/c", approved("ccc", "q", T0, 30));
    w.index.invalidateRequest("team-a/c");
    expect(w.index.forRequest("team-a/c", at(16))).toEqual([]);
    w.policies.set("team-a/q", namedPolicy("q"));
    w.index.invalidatePolicy("team-a/q");
    expect(w.actual(at(16))).toEqual(w.expected(at(16)));
    expect(w.index.forRequest("team-a/c", at(16)).length).toBeGreaterThan(0);
    // The policy is being deleted: its grants go.
    const q = namedPolicy("q", 2);
    q.metadata.deletionTimestamp = "2026-11-25T12:01:00Z";
    w.policies.set("team-a/q", q);
    w.index.invalidatePolicy("team-a/q");
    expect(w.index.forPolicy("team-a/q", at(16))).toEqual([]);
    expect(w.actual(at(16))).toEqual(w.expected(at(16)));
  });

  it("holds a request's only grant and several grants alike", () => {
    const w = new World();
    w.policies.set("team-a/p", namedPolicy("p"));
    const one = approved("a", "p", T0, 10);
    one.spec.targets = [JUMP_NSG];
    w.requests.set("team-a/a", one);
    w.requests.set("team-a/b", approved("bb", "p", T0, 20));
    w.index.reset(w.requests.keys());
    const at = (min: number): Date => new Date(T0 + min * 60_000);
    expect(w.index.forRequest("team-a/a", at(1))).toHaveLength(1);
    expect(w.index.forRequest("team-a/b", at(1)).length).toBeGreaterThan(1);
    expect(w.actual(at(1))).toEqual(w.expected(at(1)));
    expect(w.index.activeRequests(at(1))).toBe(2);
    expect(w.index.rulesOf("team-a/p", at(1)).holds("team-a/a")).toBe(true);
    expect(w.index.rulesOf("team-a/q", at(1)).holds("team-a/a")).toBe(false);
    expect(w.index.rulesOf("team-a/p", at(15)).holds("team-a/a")).toBe(false);
    expect(w.index.activeRequests(at(15))).toBe(1);
    // The lone grant leaves the policy's view when its request goes, and comes back with it.
    w.requests.delete("team-a/a");
    w.index.invalidateRequest("team-a/a");
    expect(w.actual(at(1))).toEqual(w.expected(at(1)));
    w.requests.set("team-a/a", one);
    w.index.invalidateRequest("team-a/a");
    expect(w.actual(at(1))).toEqual(w.expected(at(1)));
    expect(w.index.forPolicy("team-a/p", at(1)).filter((g) => g.requestKey === "team-a/a")).toHaveLength(1);
  });

  it("equals the core's activeGrants after any sequence of changes", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("put" as const),
        name: fc.constantFrom("a", "bb", "ccc", "dddd"),
        policy: fc.constantFrom("p", "q"),
        minutes: fc.integer({ min: 1, max: 60 }),
        revoked: fc.boolean(),
        // One target and one port: the request's only grant (held without a list by the index).
        single: fc.boolean(),
      }),
      fc.record({ kind: fc.constant("delete" as const), name: fc.constantFrom("a", "bb", "ccc", "dddd") }),
      fc.record({
        kind: fc.constant("policy" as const),
        name: fc.constantFrom("p", "q"),
        present: fc.boolean(),
      }),
      fc.record({ kind: fc.constant("tick" as const), minutes: fc.integer({ min: 0, max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const w = new World();
        w.index.reset([]);
        let now = T0;
        for (const o of ops) {
          if (o.kind === "put") {
            const r = approved(o.name, o.policy, now, o.minutes);
            r.spec.revoked = o.revoked;
            if (o.single) r.spec.targets = [JUMP_NSG];
            w.requests.set(`team-a/${o.name}`, r);
            w.index.invalidateRequest(`team-a/${o.name}`);
          } else if (o.kind === "delete") {
            w.requests.delete(`team-a/${o.name}`);
            w.index.invalidateRequest(`team-a/${o.name}`);
          } else if (o.kind === "policy") {
            if (o.present) w.policies.set(`team-a/${o.name}`, namedPolicy(o.name));
            else w.policies.delete(`team-a/${o.name}`);
            w.index.invalidatePolicy(`team-a/${o.name}`);
          } else {
            now += o.minutes * 60_000;
          }
          const t = new Date(now);
          const all = ["team-a/p", "team-a/q"].flatMap((k) => w.index.forPolicy(k, t));
          const expected = w.expected(t);
          expect(all).toEqual(expected);
          // Per request, whether it holds one grant or several: its grants, and whether its policy's
          // rules hold it.
          for (const name of ["a", "bb", "ccc", "dddd"]) {
            const key = `team-a/${name}`;
            const own = expected.filter((g) => g.requestKey === key);
            expect(w.index.forRequest(key, t)).toEqual(expect.arrayContaining(own));
            expect(w.index.forRequest(key, t)).toHaveLength(own.length);
            for (const p of ["team-a/p", "team-a/q"])
              expect(w.index.rulesOf(p, t).holds(key)).toBe(own.some((g) => g.policyKey === p));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("GrantIndex.refreshSome and indexInSlices", () => {
  function world(n: number): World {
    const w = new World();
    w.policies.set("team-a/p", namedPolicy("p"));
    for (let i = 0; i < n; i++)
      w.requests.set(`team-a/r${i}`, approved(`r${"x".repeat(i)}`, "p", T0, 10 + i));
    w.index.reset(w.requests.keys());
    return w;
  }

  it("indexes at most the given number of changed requests per call, to the same grants", () => {
    const w = world(7);
    const now = new Date(T0 + 60_000);
    const rounds: boolean[] = [];
    for (let done = false; !done;) rounds.push((done = w.index.refreshSome(3)));
    expect(rounds).toEqual([false, false, true]);
    expect(w.index.activeRequests(now)).toBe(7);
    expect(w.actual(now)).toEqual(w.expected(now));
    // A change after the slices is indexed by the next read, as before.
    w.requests.delete("team-a/r0");
    w.index.invalidateRequest("team-a/r0");
    expect(w.actual(now)).toEqual(w.expected(now));
  });

  it("lets the event loop turn between slices (a macrotask queued in one runs before the end)", async () => {
    const { indexInSlices } = await import("../../../../src/operator/controller.ts");
    const w = world(50);
    const order: string[] = [];
    let slices = 0;
    const counted = {
      refreshSome: (max: number): boolean => {
        slices++;
        if (slices === 2)
          setImmediate(() => {
            order.push(`macrotask after slice ${String(slices)}`);
          });
        return w.index.refreshSome(max);
      },
    };
    await indexInSlices(counted, 5);
    order.push("indexed");
    expect(slices).toBe(10);
    // In one synchronous stretch the macrotask would run only after the end.
    expect(order).toEqual(["macrotask after slice 2", "indexed"]);
    const now = new Date(T0 + 60_000);
    expect(w.actual(now)).toEqual(w.expected(now));
  });
});
