import { describe, expect, it } from "@jest/globals";
import { parseNsgId, parseSubnetId, parseVmId, withApiVersion } from "../../../src/azure/ids.ts";
import { AzureError } from "../../../src/azure/port.ts";

const SUB = "00000000-0000-0000-0000-000000000001";

describe("ARM ids", () => {
  it("parses NSG, VM and subnet ids", () => {
    expect(
      parseNsgId(
        `/subscriptions/${SUB}/resourceGroups/demo-rg/providers/Microsoft.Network/networkSecurityGroups/jump-nsg`,
      ),
    ).toEqual({
      subscriptionId: SUB,
      resourceGroup: "demo-rg",
      provider: "Microsoft.Network",
      type: "networkSecurityGroups",
      name: "jump-nsg",
    });
    expect(
      parseVmId(
        `/subscriptions/${SUB}/resourcegroups/demo-rg/providers/microsoft.compute/virtualmachines/web-1`,
      ).name,
    ).toBe("web-1");
    expect(
      parseSubnetId(
        `/subscriptions/${SUB}/resourceGroups/demo-rg/providers/Microsoft.Network/virtualNetworks/demo-vnet/subnets/web`,
      ),
    ).toEqual({ subscriptionId: SUB, resourceGroup: "demo-rg", virtualNetwork: "demo-vnet", subnet: "web" });
  });

  it("rejects malformed ids and the wrong resource type with Invalid", () => {
    expect(() => parseNsgId("jump-nsg")).toThrow(AzureError);
    expect(() => parseNsgId("jump-nsg")).toThrow(/is not of the form/);
    expect(() =>
      parseNsgId(
        `/subscriptions/${SUB}/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/web-1`,
      ),
    ).toThrow(/expected Microsoft.Network\/networkSecurityGroups/);
    try {
      parseVmId("/subscriptions//resourceGroups/x");
    } catch (e) {
      expect((e as AzureError).kind).toBe("Invalid");
    }
    expect.assertions(4);
  });

  it("adds the api-version to an ARM link without one, and keeps the one a link has", () => {
    const link = `https://arm.test/subscriptions/${SUB}/providers/Microsoft.Network/networkSecurityGroups`;
    expect(withApiVersion(`${link}?$skiptoken=a%2Fb`, "2026-01-01")).toBe(
      `${link}?%24skiptoken=a%2Fb&api-version=2026-01-01`,
    );
    expect(withApiVersion(`${link}?api-version=2024-05-01`, "2026-01-01")).toBe(
      `${link}?api-version=2024-05-01`,
    );
  });
});
