import { describe, expect, test } from "@jest/globals";
import { ArmError } from "../../../src/emulator/errors.ts";
import { isValidAddressPrefix, isValidPortRange } from "../../../src/emulator/prefixes.ts";
import { normalizeRuleProperties, validateRuleSet } from "../../../src/emulator/validation.ts";

const base = {
  protocol: "tcp",
  sourcePortRange: "*",
  destinationPortRange: "22",
  sourceAddressPrefix: "203.0.113.0/24",
  destinationAddressPrefix: "*",
  access: "allow",
  priority: 100,
  direction: "inbound",
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ArmError ? e.code : `not an ArmError: ${String(e)}`;
  }
  return undefined;
}

describe("address prefixes", () => {
  test.each([
    "*",
    "VirtualNetwork",
    "Internet",
    "Storage.WestEurope",
    "10.0.0.4",
    "10.0.0.0/8",
    "203.0.113.7/32",
    "2001:db8::/32",
    "::1",
  ])("%s is valid", (p) => {
    expect(isValidAddressPrefix(p)).toBe(true);
  });
  test.each([
    "10.0.0.5/24",
    "10.0.0.256",
    "10.0.0.0/33",
    "any",
    "10.0.0",
    "1.2.3.4-1.2.3.9",
    "",
    "2001:db8::1/32",
  ])("%s is invalid", (p) => {
    expect(isValidAddressPrefix(p)).toBe(false);
  });
});

describe("port ranges", () => {
  test.each(["*", "0", "22", "65535", "1000-2000", "22-22"])("%s is valid", (p) => {
    expect(isValidPortRange(p)).toBe(true);
  });
  test.each(["65536", "-1", "20-10", "a", "1,2", "", "22-"])("%s is invalid", (p) => {
    expect(isValidPortRange(p)).toBe(false);
  });
});

describe("rule normalization", () => {
  test("enum values are canonicalized and the plural arrays filled as ARM returns them", () => {
    expect(normalizeRuleProperties(base, "id")).toEqual({
      provisioningState: "Succeeded",
      protocol: "Tcp",
      sourcePortRange: "*",
      destinationPortRange: "22",
      sourceAddressPrefix: "203.0.113.0/24",
      destinationAddressPrefix: "*",
      access: "Allow",
      priority: 100,
      direction: "Inbound",
      sourcePortRanges: [],
      destinationPortRanges: [],
      sourceAddressPrefixes: [],
      destinationAddressPrefixes: [],
    });
  });

  test.each([
    [{ priority: 100.5 }, "SecurityRuleInvalidPriority"],
    [{ priority: "100" }, "SecurityRuleInvalidPriority"],
    [{ sourcePortRange: undefined }, "SecurityRuleInvalidPortRange"],
    [{ destinationPortRange: undefined, destinationPortRanges: ["*"] }, "SecurityRuleInvalidPortRange"],
    [{ sourceAddressPrefix: undefined }, "SecurityRuleInvalidAddressPrefix"],
    [
      { destinationAddressPrefix: undefined, destinationAddressPrefixes: ["*"] },
      "SecurityRuleParameterContainsUnsupportedValue",
    ],
    [{ access: "Maybe" }, "InvalidRequestFormat"],
    [{ sourceAddressPrefixes: "10.0.0.0/8", sourceAddressPrefix: undefined }, "InvalidRequestFormat"],
  ])("%j is refused with %s", (change, code) => {
    expect(codeOf(() => normalizeRuleProperties({ ...base, ...change }, "id"))).toBe(code);
  });
});

describe("rule sets", () => {
  const rule = (
    name: string,
    priority: number,
    direction = "Inbound",
  ): { name: string; properties: Record<string, unknown> } => ({
    name,
    properties: { priority, direction, sourceAddressPrefix: "*", destinationAddressPrefix: "*" },
  });

  test("the same priority in both directions is fine; in one direction it conflicts", () => {
    expect(
      codeOf(() => {
        validateRuleSet([rule("a", 100), rule("b", 100, "Outbound")], "nsg");
      }),
    ).toBeUndefined();
    expect(
      codeOf(() => {
        validateRuleSet([rule("a", 100), rule("b", 100)], "nsg");
      }),
    ).toBe("SecurityRuleConflict");
  });

  test("rule names are unique case-insensitively", () => {
    expect(
      codeOf(() => {
        validateRuleSet([rule("a", 100), rule("A", 101)], "nsg");
      }),
    ).toBe("DuplicateResourceName");
  });
});
