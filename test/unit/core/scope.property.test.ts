// Property tests of JitScope evaluation over random ARM ids, scopes and namespaces.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { JitPolicy, JitScope } from "../../../src/api/types.ts";
import { armIdWithin, checkPolicyScope, scopeBindsNamespace, scopeIndex } from "../../../src/core/scope.ts";

const numRuns = process.env["CI"] ? 5000 : 500;

/** Letters of both cases, so case changes matter. */
const segment = fc.stringMatching(/^[A-Za-z0-9][-A-Za-z0-9_.]{0,7}$/);
const guid = fc.uuid().map((u) => u.toLowerCase());
const armId = fc
  .tuple(guid, fc.array(segment, { minLength: 0, maxLength: 6 }))
  .map(([sub, rest]) => ["", "subscriptions", sub, ...rest].join("/"));

/** Flips the case of some ASCII letters. */
function recase(text: string, flips: boolean[]): string {
  return text.replace(/[A-Za-z]/g, (c, i: number) =>
    flips[i % Math.max(1, flips.length)] === true ? c.toUpperCase() : c.toLowerCase(),
  );
}

const nsName = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
const namespaceArb = fc.record({
  name: nsName,
  labels: fc.dictionary(fc.constantFrom("team", "tier", "zone"), fc.constantFrom("a", "b", "prod")),
});

const scopeArb: fc.Arbitrary<JitScope> = fc
  .record({
    name: nsName,
    names: fc.option(fc.array(nsName, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    selector: fc.option(
      fc.oneof(
        fc.constant({}),
        fc.record({
          matchLabels: fc.dictionary(fc.constantFrom("team", "tier"), fc.constantFrom("a", "prod")),
        }),
      ),
      { nil: undefined },
    ),
    azureScopes: fc.array(armId, { minLength: 1, maxLength: 3 }),
  })
  .map((s) => ({
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitScope",
    metadata: { name: s.name },
    spec: {
      namespaces: {
        ...(s.names === undefined ? {} : { names: s.names }),
        ...(s.selector === undefined ? {} : { selector: s.selector }),
      },
      azureScopes: s.azureScopes,
    },
  }));

function policyOf(ids: string[], namespace: string): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { name: "p", namespace },
    spec: {
      targets: ids.map((id) => ({ virtualMachineId: id })),
      ports: [{ number: 22, protocol: "TCP", maxDuration: "PT1H" }],
      priorityRange: { from: 100, to: 199 },
      nsgScope: "All",
    },
  };
}

describe("armIdWithin", () => {
  it("contains every id that extends the prefix, in any letter case", () => {
    fc.assert(
      fc.property(
        armId,
        fc.array(segment, { maxLength: 4 }),
        fc.array(fc.boolean()),
        (prefix, more, flips) => {
          const id = [prefix, ...more].join("/");
          expect(armIdWithin(recase(id, flips), prefix)).toBe(true);
          expect(armIdWithin(id, recase(prefix, flips))).toBe(true);
          expect(armIdWithin(`${id}/`, `${prefix}/`)).toBe(true);
        },
      ),
      { numRuns },
    );
  });

  it("is segment-exact: extending the prefix's last segment leaves it outside", () => {
    fc.assert(
      fc.property(armId, segment, fc.array(segment, { maxLength: 3 }), (prefix, tail, more) => {
        const id = [`${prefix}${tail}`, ...more].join("/");
        expect(armIdWithin(id, prefix)).toBe(false);
      }),
      { numRuns },
    );
  });

  it("agrees with a comparison of lower-cased segment lists", () => {
    fc.assert(
      fc.property(armId, armId, (id, prefix) => {
        const a = id.toLowerCase().split("/");
        const b = prefix.toLowerCase().split("/");
        const expected = b.length <= a.length && b.every((s, i) => s === a[i]);
        expect(armIdWithin(id, prefix)).toBe(expected);
      }),
      { numRuns },
    );
  });
});

describe("checkPolicyScope", () => {
  it("never covers a target when no scope binds the namespace", () => {
    fc.assert(
      fc.property(
        fc.array(scopeArb, { maxLength: 4 }),
        namespaceArb,
        fc.array(armId, { minLength: 1, maxLength: 4 }),
        (scopes, ns, ids) => {
          const unbound = scopes.filter((s) => !scopeBindsNamespace(s, ns));
          const v = checkPolicyScope(policyOf(ids, ns.name), ns, unbound);
          expect(v.targets.every((t) => !t.covered)).toBe(true);
          expect(v.outOfScope).toHaveLength(ids.length);
          for (const t of v.outOfScope) expect(t.message).toContain(`namespace ${ns.name}`);
        },
      ),
      { numRuns },
    );
  });

  it("covers a target exactly when a bound scope (without ceilings) contains it, naming that scope", () => {
    fc.assert(
      fc.property(
        fc.array(scopeArb, { maxLength: 4 }),
        namespaceArb,
        fc.array(armId, { minLength: 1, maxLength: 4 }),
        (scopes, ns, ids) => {
          const v = checkPolicyScope(policyOf(ids, ns.name), ns, scopes);
          const bound = scopes.filter((s) => scopeBindsNamespace(s, ns));
          v.targets.forEach((t, i) => {
            const id = ids[i] ?? "";
            const containing = bound.filter((s) => s.spec.azureScopes.some((p) => armIdWithin(id, p)));
            expect(t.covered).toBe(containing.length > 0);
            if (t.covered) expect(containing.map((s) => s.metadata.name)).toContain(t.scope);
            expect(t.message).toContain(id);
          });
          expect(v.outOfScope).toEqual(v.targets.filter((t) => !t.covered));
        },
      ),
      { numRuns },
    );
  });

  it("agrees with the scope index on which targets lie inside (ceilings aside)", () => {
    fc.assert(
      fc.property(
        fc.array(scopeArb, { maxLength: 4 }),
        namespaceArb,
        fc.array(armId, { minLength: 1, maxLength: 4 }),
        (scopes, ns, ids) => {
          const prefixes = scopeIndex(scopes, [ns]).get(ns.name) ?? [];
          const v = checkPolicyScope(policyOf(ids, ns.name), ns, scopes);
          v.targets.forEach((t, i) => {
            const id = (ids[i] ?? "").toLowerCase();
            expect(t.covered).toBe(prefixes.some((p) => id === p || id.startsWith(`${p}/`)));
          });
        },
      ),
      { numRuns },
    );
  });
});
