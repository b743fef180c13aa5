// The grant index's compact grants (src/operator/state/grant-compact.ts): the in-place comparison
// orders exactly as compareGrants, and sharing keys changes no value.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { compareGrants } from "../../../../src/core/index.ts";
import type { Grant } from "../../../../src/core/types.ts";
import { compareGrantsInPlace, GrantSharing } from "../../../../src/operator/state/grant-compact.ts";

const sign = (n: number): number => Math.sign(n);

/** Short texts from few characters, the separator and a control character below it included. */
const text = fc.string({ unit: fc.constantFrom("a", "b", "/", "\n", "\t", "Z"), maxLength: 5 });

const grant = fc.record({
  requestKey: text,
  policyKey: text,
  targetId: text,
  port: fc.constantFrom(22, 443),
  protocol: fc.constantFrom("TCP" as const, "UDP" as const),
  sourcePrefix: fc.constant("10.0.0.1/32"),
  expiresAt: fc.constant(new Date(0)),
});

function g(policyKey: string, targetId: string, requestKey: string, port = 22): Grant {
  return {
    policyKey,
    targetId,
    requestKey,
    port,
    protocol: "TCP",
    sourcePrefix: "*",
    expiresAt: new Date(0),
  };
}

describe("compareGrantsInPlace", () => {
  it("orders every pair as compareGrants does", () => {
    fc.assert(
      fc.property(grant, grant, (a, b) => {
        expect(sign(compareGrantsInPlace(a, b))).toBe(sign(compareGrants(a, b)));
      }),
      { numRuns: 5000 },
    );
  });

  it("orders prefixes and separators as the joined keys do", () => {
    const cases: [Grant, Grant][] = [
      [g("ns/p", "t", "r"), g("ns/p2", "t", "r")],
      [g("ns/p", "t\n", "r"), g("ns/p", "t", "\t")],
      [g("a", "t", "r"), g("a\t", "t", "r")],
      [g("a", "b", "c"), g("a", "b", "c", 443)],
      [g("a", "b", "c"), g("a", "b", "cd")],
    ];
    for (const [a, b] of cases) {
      expect(sign(compareGrantsInPlace(a, b))).toBe(sign(compareGrants(a, b)));
      expect(sign(compareGrantsInPlace(b, a))).toBe(sign(compareGrants(b, a)));
    }
  });
});

describe("GrantSharing", () => {
  it("changes no value, and keeps a request key or source that differs", () => {
    const grants = [g("ns/p", "t1", "ns/r"), g("ns/p", "t2", "ns/other")];
    const before = structuredClone(grants);
    const kept = new GrantSharing().compact(grants, "ns/r", "10.0.0.9/32");
    expect(kept).toEqual(before);
    expect(kept).not.toBe(grants);
  });

  it("shares one expiry Date per instant between requests", () => {
    const sharing = new GrantSharing();
    const a = sharing.compact([g("ns/p", "t1", "ns/a")], "ns/a", "x");
    const b = sharing.compact([g("ns/p", "t1", "ns/b")], "ns/b", "x");
    expect(a[0]?.expiresAt).toBe(b[0]?.expiresAt);
    const later = g("ns/p", "t1", "ns/c");
    later.expiresAt = new Date(later.expiresAt.getTime() + 1);
    const c = sharing.compact([later], "ns/c", "x");
    expect(c[0]?.expiresAt).not.toBe(a[0]?.expiresAt);
    expect(c[0]?.expiresAt.getTime()).toBe((a[0]?.expiresAt.getTime() ?? 0) + 1);
  });
});
