// A policy's view hands out the same array while its grants stay the same and a new one when they
// change (the NSG reconciler skips a plan on the same inputs), and never an expired grant.
import { describe, expect, it } from "@jest/globals";
import type { Grant } from "../../../../src/core/index.ts";
import { compareGrants } from "../../../../src/core/index.ts";
import { PolicyView } from "../../../../src/operator/state/policy-view.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");

function grant(request: string, target: string, minutes: number): Grant {
  return {
    requestKey: `team-a/${request}`,
    policyKey: "team-a/p",
    targetId: target,
    port: 22,
    protocol: "TCP",
    sourcePrefix: "198.51.100.7/32",
    expiresAt: new Date(T0 + minutes * 60_000),
  };
}

describe("PolicyView", () => {
  it("keeps the grants sorted as they come and go, one snapshot per state", () => {
    const a = [grant("a", "vm-2", 10), grant("a", "vm-1", 10)];
    const many = Array.from({ length: 12 }, (_, i) => grant("b", `vm-${i % 3}`, 20 + i));
    const view = new PolicyView(compareGrants, a);
    const first = view.grants(T0);
    expect(first).toEqual([...a].sort(compareGrants));
    expect(view.grants(T0 + 1000)).toBe(first);
    view.add(many);
    const second = view.grants(T0);
    expect(second).not.toBe(first);
    expect(second).toEqual([...a, ...many].sort(compareGrants));
    // Taking out what is not there (already swept, or another object) changes nothing.
    view.remove([grant("a", "vm-1", 10)]);
    expect(view.grants(T0)).toBe(second);
    view.remove(many);
    expect(view.grants(T0)).toEqual([...a].sort(compareGrants));
  });

  it("never returns an expired grant, and sweeps them without a change of its requests", () => {
    const view = new PolicyView(compareGrants, [grant("a", "vm-1", 10), grant("b", "vm-1", 20)]);
    const before = view.grants(T0);
    expect(before).toHaveLength(2);
    const after = view.grants(T0 + 10 * 60_000);
    expect(after.map((g) => g.requestKey)).toEqual(["team-a/b"]);
    expect(after).not.toBe(before);
    expect(view.grants(T0 + 20 * 60_000)).toEqual([]);
    expect(view.size).toBe(0);
  });
});
