// The real @azure/arm-network and @azure/arm-compute SDKs, unmodified, against the emulator over
// HTTPS (trusting its CA through the pipeline's tlsOptions).
// The deprecated begin*AndWait methods are exercised on purpose: clients still call them.
/* eslint-disable @typescript-eslint/no-deprecated */
import { ComputeManagementClient } from "@azure/arm-compute";
import { NetworkManagementClient } from "@azure/arm-network";
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { startEmulator, type RunningEmulator } from "../../../src/emulator/index.ts";
import { manyNsgs, RG, SEED_FILE, staticToken, SUB } from "./support.ts";

// The async-LRO test waits for operations for seconds: a guard well above that, for a loaded
// machine.
jest.setTimeout(30_000);

let emu: RunningEmulator;
let network: NetworkManagementClient;
let compute: ComputeManagementClient;

beforeAll(async () => {
  emu = await startEmulator({ seedFile: SEED_FILE, throttle: false });
  const options = { endpoint: emu.endpoint, tlsOptions: { ca: emu.caPem } };
  network = new NetworkManagementClient(staticToken, SUB, options);
  compute = new ComputeManagementClient(staticToken, SUB, options);
});

afterAll(async () => {
  await emu.close();
});

const rule = {
  protocol: "Tcp" as const,
  sourcePortRange: "*",
  destinationPortRange: "22",
  sourceAddressPrefix: "203.0.113.7/32",
  destinationAddressPrefix: "*",
  access: "Allow" as const,
  priority: 150,
  direction: "Inbound" as const,
};

describe("SDK round trips", () => {
  test("VM -> NIC -> subnet -> NSGs resolve through the compute and network clients", async () => {
    const vm = await compute.virtualMachines.get(RG, "web-1");
    const nicId = vm.networkProfile?.networkInterfaces?.[0]?.id;
    expect(nicId).toMatch(/networkInterfaces\/web-1-nic$/);
    const nic = await network.networkInterfaces.get(RG, "web-1-nic");
    const ipConfig = nic.ipConfigurations?.[0];
    expect(ipConfig?.privateIPAddress).toBe("10.0.1.4");
    expect(nic.networkSecurityGroup?.id).toMatch(/web-1-nic-nsg$/);
    const vnet = await network.virtualNetworks.get(RG, "demo-vnet");
    expect(vnet.addressSpace?.addressPrefixes).toEqual(["10.0.0.0/16"]);
    const subnet = await network.subnets.get(RG, "demo-vnet", "web");
    expect(subnet.addressPrefix).toBe("10.0.1.0/24");
    expect(subnet.networkSecurityGroup?.id).toMatch(/web-subnet-nsg$/);
  });

  test("an NSG is created, read, updated with If-Match, and deleted", async () => {
    const created = await network.networkSecurityGroups.beginCreateOrUpdateAndWait(
      RG,
      "sdk-nsg",
      { location: "westeurope", securityRules: [{ name: "drawbridge-a", ...rule }] },
      { updateIntervalInMs: 5 },
    );
    expect(created.provisioningState).toBe("Succeeded");
    expect(created.defaultSecurityRules).toHaveLength(6);
    const got = await network.networkSecurityGroups.get(RG, "sdk-nsg");
    expect(got.etag).toMatch(/^W\/"[0-9a-f-]{36}"$/);
    const updated = await network.networkSecurityGroups.beginCreateOrUpdateAndWait(
      RG,
      "sdk-nsg",
      { location: "westeurope", securityRules: [] },
      { updateIntervalInMs: 5, requestOptions: { headers: { "If-Match": got.etag ?? "" } } },
    );
    expect(updated.securityRules).toEqual([]);
    expect(updated.etag).not.toBe(got.etag);
    await network.networkSecurityGroups.beginDeleteAndWait(RG, "sdk-nsg", { updateIntervalInMs: 5 });
    await expect(network.networkSecurityGroups.get(RG, "sdk-nsg")).rejects.toMatchObject({ statusCode: 404 });
  });

  test("security rules are created, listed and deleted", async () => {
    const poller = network.securityRules.createOrUpdate(RG, "jump-nsg", "drawbridge-sdk", rule, {
      updateIntervalInMs: 5,
    });
    const created = await poller;
    expect(created.name).toBe("drawbridge-sdk");
    expect(created.provisioningState).toBe("Succeeded");
    const names: string[] = [];
    for await (const r of network.securityRules.list(RG, "jump-nsg")) names.push(r.name ?? "");
    expect(names).toEqual(expect.arrayContaining(["allow-https", "deny-all-out", "drawbridge-sdk"]));
    await network.securityRules.delete(RG, "jump-nsg", "drawbridge-sdk", { updateIntervalInMs: 5 });
    await expect(network.securityRules.get(RG, "jump-nsg", "drawbridge-sdk")).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  test("listAll pages across more than one page with nextLink", async () => {
    emu.addResources(manyNsgs(230, "page"));
    emu.resetStats();
    const ids: string[] = [];
    for await (const n of network.networkSecurityGroups.listAll()) ids.push(n.id ?? "");
    expect(ids.length).toBe(230 + 3);
    expect(new Set(ids).size).toBe(ids.length);
    expect(emu.stats().byOperation["NetworkSecurityGroups_ListAll"]).toBe(3);
    const inGroup: string[] = [];
    for await (const n of network.networkSecurityGroups.list(RG)) inGroup.push(n.name ?? "");
    expect(inGroup).toContain("jump-nsg");
  });

  test("in async LRO mode the pollers wait for InProgress operations and end Succeeded", async () => {
    const slow = await startEmulator({
      seedFile: SEED_FILE,
      throttle: false,
      lroMode: "async",
      lroDurationMs: 300,
    });
    try {
      const client = new NetworkManagementClient(staticToken, SUB, {
        endpoint: slow.endpoint,
        tlsOptions: { ca: slow.caPem },
      });
      const created = await client.securityRules.createOrUpdate(RG, "jump-nsg", "drawbridge-async", rule, {
        updateIntervalInMs: 5,
      });
      expect(created.provisioningState).toBe("Succeeded");
      expect(slow.stats().byOperation["Operations_Status"]).toBeGreaterThanOrEqual(1);
      await client.securityRules.delete(RG, "jump-nsg", "drawbridge-async", { updateIntervalInMs: 5 });
      await expect(client.securityRules.get(RG, "jump-nsg", "drawbridge-async")).rejects.toMatchObject({
        statusCode: 404,
      });
    } finally {
      await slow.close();
    }
  });
});
