// What the ledger records of an NSG's placements (src/operator/nsg/placements.ts): per request the
// rules that carry it and its grant's expiry, with the rule objects, one-rule lists and placements
// of equal value shared (and frozen), refused rules left out.
import { describe, expect, test } from "@jest/globals";
import type { Grant } from "../../../../src/core/types.ts";
import type { ApplyResult } from "../../../../src/operator/nsg/apply.ts";
import { placementsOf } from "../../../../src/operator/nsg/placements.ts";

const NSG = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n";

function placed(
  requestKey: string,
  port: number,
  expiresAt: number,
  ruleName = `drawbridge-${port}`,
): unknown {
  const grant: Grant = {
    requestKey,
    policyKey: "ns/p",
    targetId: NSG,
    port,
    protocol: "TCP",
    sourcePrefix: "10.0.0.1/32",
    expiresAt: new Date(expiresAt),
  };
  return { grant, ruleName, priority: 100 + port };
}

function result(placements: unknown[], refused: string[] = []): ApplyResult {
  return {
    plan: { placements },
    refused: new Map(refused.map((r) => [r, { reason: "InvalidRule", message: "no" }])),
    writes: 0,
  } as unknown as ApplyResult;
}

describe("placementsOf", () => {
  test("records each request's rules and expiry, sharing what is equal", () => {
    const { placements } = placementsOf(
      NSG,
      result([
        placed("ns/a", 22, 1000),
        placed("ns/b", 22, 1000),
        placed("ns/c", 22, 2000),
        placed("ns/d", 22, 1000),
        placed("ns/d", 443, 1000),
      ]),
    );
    const rule22 = {
      networkSecurityGroupId: NSG,
      ruleName: "drawbridge-22",
      priority: 122,
      port: 22,
      protocol: "TCP",
    };
    const rule443 = { ...rule22, ruleName: "drawbridge-443", priority: 543, port: 443 };
    expect(Object.fromEntries(placements)).toEqual({
      "ns/a": { rules: [rule22], expiresAt: 1000 },
      "ns/b": { rules: [rule22], expiresAt: 1000 },
      "ns/c": { rules: [rule22], expiresAt: 2000 },
      "ns/d": { rules: [rule22, rule443], expiresAt: 1000 },
    });
    const [a, b, c, d] = ["ns/a", "ns/b", "ns/c", "ns/d"].map((k) => placements.get(k));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(c?.rules).toBe(a?.rules);
    expect(d?.rules[0]).toBe(a?.rules[0]);
    for (const p of [a, d]) {
      expect(Object.isFrozen(p)).toBe(true);
      expect(Object.isFrozen(p?.rules)).toBe(true);
      expect(Object.isFrozen(p?.rules[0])).toBe(true);
    }
  });

  test("leaves out the rules Azure refused", () => {
    const { placements } = placementsOf(
      NSG,
      result(
        [placed("ns/a", 22, 1000), placed("ns/a", 443, 1000), placed("ns/b", 443, 1000)],
        ["drawbridge-443"],
      ),
    );
    expect([...placements.keys()]).toEqual(["ns/a"]);
    expect(placements.get("ns/a")?.rules.map((r) => r.port)).toEqual([22]);
  });
});
