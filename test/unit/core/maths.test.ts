// Table-driven tests of CIDR, duration and rule-name maths.
import { describe, expect, it } from "@jest/globals";
import {
  allowRuleName,
  denyRuleName,
  formatDuration,
  isValidRuleName,
  isWildcardPrefix,
  normalizePrefix,
  parseDuration,
  prefixContains,
  prefixesOverlap,
} from "../../../src/core/index.ts";

describe("normalizePrefix", () => {
  it.each([
    ["10.0.1.4", "10.0.1.4/32"],
    ["203.0.113.0/24", "203.0.113.0/24"],
    ["2001:DB8:0::1", "2001:db8::1/128"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["203.0.113.7/24", undefined],
    ["10.1", undefined],
    ["010.0.0.1", undefined],
    ["1.2.3.4/33", undefined],
    ["10.0.0.0/08", undefined],
    ["fe80::1%eth0", undefined],
    ["::ffff:1.2.3.4", undefined],
    ["256.0.0.1", undefined],
    ["example.com", undefined],
  ])("%s -> %s", (text, expected) => {
    expect(normalizePrefix(text)).toBe(expected);
  });
});

describe("prefixContains / prefixesOverlap", () => {
  it.each([
    ["203.0.113.0/24", "203.0.113.7/32", true],
    ["203.0.113.0/24", "203.0.113.0/24", true],
    ["203.0.113.0/24", "203.0.112.0/23", false],
    ["203.0.113.0/25", "203.0.113.128/32", false],
    ["0.0.0.0/0", "198.51.100.7", true],
    ["2001:db8::/32", "2001:db8:1::7/128", true],
    ["2001:db8::/32", "203.0.113.7/32", false],
    ["*", "203.0.113.7/32", false],
  ])("%s contains %s: %s", (outer, inner, expected) => {
    expect(prefixContains(outer, inner)).toBe(expected);
  });

  it("overlaps in either direction only within a family", () => {
    expect(prefixesOverlap("10.0.0.0/16", "10.0.1.4/32")).toBe(true);
    expect(prefixesOverlap("10.0.1.4/32", "10.0.0.0/16")).toBe(true);
    expect(prefixesOverlap("10.1.0.0/16", "10.0.1.4/32")).toBe(false);
    expect(prefixesOverlap("::/0", "10.0.1.4/32")).toBe(false);
  });
});

describe("isWildcardPrefix", () => {
  it.each([
    ["*", true],
    ["Internet", true],
    ["internet", true],
    ["Any", true],
    ["ANY", true],
    ["0.0.0.0/0", true],
    ["::/0", true],
    ["::0/0", true],
    ["0.0.0.0/1", false],
    ["203.0.113.7/32", false],
  ])("%s: %s", (text, expected) => {
    expect(isWildcardPrefix(text)).toBe(expected);
  });
});

describe("durations", () => {
  it.each([
    ["PT3H", 3 * 3600_000],
    ["P1D", 86_400_000],
    ["PT10S", 10_000],
    ["P1DT2H3M4S", 93_784_000],
    ["PT90M", 5_400_000],
  ])("parses %s", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(["P1Y", "P1M", "P1W", "P", "PT", "1H", "PT3h", "-PT1H", "3h"])(
    "refuses %s with a message",
    (text) => {
      const r = parseDuration(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(text);
    },
  );

  it("refuses years, months and weeks by name", () => {
    const r = parseDuration("P1M");
    expect(!r.ok && r.error).toMatch(/years, months or weeks/);
  });

  it.each([
    [0, "PT0S"],
    [5_400_000, "PT1H30M"],
    [86_400_000, "P1D"],
    [90_061_000, "P1DT1H1M1S"],
  ])("formats %d as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("rule names", () => {
  const vm =
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/web-1";

  it("are deterministic, distinct per target and within Azure's rules", () => {
    const a = allowRuleName("team-a/web-admin", vm, "TCP", 22);
    expect(a).toBe(allowRuleName("team-a/web-admin", vm, "TCP", 22));
    expect(a).toMatch(/^drawbridge-team-a-web-admin-[0-9a-f]{16}-tcp-22$/);
    expect(a).not.toBe(allowRuleName("team-a/web-admin", `${vm}-2`, "TCP", 22));
    expect(allowRuleName("team-a/web-admin", vm.toUpperCase(), "TCP", 22)).toBe(a);
    expect(denyRuleName("team-a/web-admin", vm, "Any")).toMatch(/-deny-any$/);
  });

  it("stay within 80 characters for the longest namespace and policy names", () => {
    const key = `${"n".repeat(63)}/${"p.q-".repeat(63)}`;
    for (const name of [allowRuleName(key, vm, "Any", 65535), denyRuleName(key, vm, "UDP")]) {
      expect(name.length).toBeLessThanOrEqual(80);
      expect(isValidRuleName(name)).toBe(true);
    }
  });

  it.each([
    ["drawbridge-a-1", true],
    ["a", true],
    ["x_", true],
    ["-x", false],
    ["x.", false],
    ["x y", false],
    ["x".repeat(81), false],
  ])("isValidRuleName(%s) = %s", (name, ok) => {
    expect(isValidRuleName(name)).toBe(ok);
  });
});
