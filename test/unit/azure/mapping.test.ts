import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { SecurityRule as SdkSecurityRule } from "@azure/arm-network";
import type { SecurityRule } from "../../../src/core/nsg.ts";
import { fromSdkNsg, fromSdkRule, toSdkRule } from "../../../src/azure/mapping.ts";

const ruleArb: fc.Arbitrary<SecurityRule> = fc.record(
  {
    name: fc.stringMatching(/^drawbridge-[a-z0-9-]{1,20}$/),
    priority: fc.integer({ min: 100, max: 4096 }),
    direction: fc.constantFrom("Inbound" as const, "Outbound" as const),
    access: fc.constantFrom("Allow" as const, "Deny" as const),
    protocol: fc.constantFrom(
      "Tcp" as const,
      "Udp" as const,
      "Icmp" as const,
      "Esp" as const,
      "Ah" as const,
      "*" as const,
    ),
    description: fc.string({ maxLength: 140 }),
    sourceAddressPrefix: fc.constantFrom("*", "203.0.113.7/32"),
    sourceAddressPrefixes: fc.array(fc.constantFrom("198.51.100.0/24", "203.0.113.0/24"), {
      minLength: 1,
      maxLength: 2,
    }),
    sourcePortRange: fc.constant("*"),
    destinationAddressPrefix: fc.constant("10.0.1.4"),
    destinationAddressPrefixes: fc.array(fc.constant("10.0.2.4/32"), { minLength: 1, maxLength: 1 }),
    destinationPortRange: fc.constantFrom("22", "3389"),
    destinationPortRanges: fc.array(fc.constantFrom("22", "80-81"), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: ["name", "priority", "direction", "access", "protocol"] },
);

describe("rule mapping", () => {
  it("round-trips every writable field one to one", () => {
    fc.assert(
      fc.property(ruleArb, (rule) => {
        expect(fromSdkRule(toSdkRule(rule))).toEqual(rule);
      }),
    );
  });

  it("drops read-only fields when writing and keeps etag/provisioningState when reading", () => {
    const sdk: SdkSecurityRule = {
      id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n/securityRules/drawbridge-a",
      name: "drawbridge-a",
      etag: 'W/"1"',
      type: "Microsoft.Network/networkSecurityGroups/securityRules",
      provisioningState: "Succeeded",
      priority: 100,
      direction: "Inbound",
      access: "Allow",
      protocol: "Tcp",
      destinationPortRange: "22",
      sourceAddressPrefixes: [],
    };
    const core = fromSdkRule(sdk);
    expect(core.etag).toBe('W/"1"');
    expect(core.provisioningState).toBe("Succeeded");
    expect(core.sourceAddressPrefixes).toBeUndefined(); // ARM's empty list means "not set"
    expect(toSdkRule(core)).toEqual({
      name: "drawbridge-a",
      priority: 100,
      direction: "Inbound",
      access: "Allow",
      protocol: "Tcp",
      destinationPortRange: "22",
    });
  });

  it("normalises enum spelling and refuses unknown values", () => {
    const r = fromSdkRule({
      name: "x",
      priority: 200,
      direction: "inbound",
      access: "deny",
      protocol: "tcp",
    });
    expect([r.direction, r.access, r.protocol]).toEqual(["Inbound", "Deny", "Tcp"]);
    expect(() =>
      fromSdkRule({ name: "x", priority: 200, direction: "Inbound", access: "Allow", protocol: "Gre" }),
    ).toThrow(/protocol "Gre" is not one of/);
  });

  it("maps an NSG with its id, etag, location and custom rules only", () => {
    const nsg = fromSdkNsg({
      id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n",
      etag: 'W/"7"',
      location: "westeurope",
      securityRules: [
        { name: "allow-https", priority: 300, direction: "Inbound", access: "Allow", protocol: "Tcp" },
      ],
      defaultSecurityRules: [
        { name: "AllowVnetInBound", priority: 65000, direction: "Inbound", access: "Allow", protocol: "*" },
      ],
    });
    expect(nsg.etag).toBe('W/"7"');
    expect(nsg.location).toBe("westeurope");
    expect(nsg.securityRules.map((r) => r.name)).toEqual(["allow-https"]);
  });
});
