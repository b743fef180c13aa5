import { describe, expect, it } from "@jest/globals";
import { parseNsgId, parseSubnetId, parseVmId } from "../../../src/azure/ids.ts";
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
});
