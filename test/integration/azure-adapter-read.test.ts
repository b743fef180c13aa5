// The Azure adapter over the real SDKs against the ARM emulator (HTTPS, own CA): VM resolution,
// NSG reads and paged listing.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import type { AzureAdapter, AzureAdapterOptions } from "../../src/azure/adapter.ts";
import { AzureError } from "../../src/azure/port.ts";
import { startEmulator, type RunningEmulator } from "../../src/emulator/index.ts";
import { callLine, recordingAdapter } from "./azure-adapter-support.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const RG = `/subscriptions/${SUB}/resourceGroups/demo-rg/providers`;
const VM = `${RG}/Microsoft.Compute/virtualMachines/web-1`;
const NIC_NSG = `${RG}/Microsoft.Network/networkSecurityGroups/web-1-nic-nsg`;
const SUBNET_NSG = `${RG}/Microsoft.Network/networkSecurityGroups/web-subnet-nsg`;
const JUMP_NSG = `${RG}/Microsoft.Network/networkSecurityGroups/jump-nsg`;
const BULK_RG = `/subscriptions/${SUB}/resourceGroups/bulk-rg/providers/Microsoft.Network/networkSecurityGroups`;

let emu: RunningEmulator;
const adapters: AzureAdapter[] = [];

function adapter(extra: Partial<AzureAdapterOptions> = {}): { a: AzureAdapter; calls: string[] } {
  const made = recordingAdapter(emu, callLine, extra);
  adapters.push(made.a);
  return made;
}

beforeAll(async () => {
  emu = await startEmulator({ seedFile: "examples/seed.yaml", pageSize: 100 });
});

afterAll(async () => {
  for (const a of adapters) a.close();
  await emu.close();
});

describe("resolveVirtualMachine", () => {
  it("resolves web-1 to its private IP, its NIC NSG and its subnet NSG", async () => {
    const { a, calls } = adapter();
    const vm = await a.resolveVirtualMachine(VM);
    expect(vm).toEqual({
      id: VM,
      privateIpAddresses: ["10.0.1.4"],
      networkInterfaceNsgIds: [NIC_NSG],
      subnetNsgIds: [SUBNET_NSG],
    });
    expect(calls).toEqual(["GET virtualMachines 200", "GET networkInterfaces 200", "GET subnets 200"]);
  });

  it("serves repeated and concurrent lookups from one ARM resolution until the TTL lapses", async () => {
    let offset = 0;
    const clock = {
      now: (): Date => new Date(Date.now() + offset),
      setTimer: (fn: () => void, ms: number): ReturnType<typeof setTimeout> => setTimeout(fn, ms),
      clearTimer: (t: unknown): void => {
        clearTimeout(t as ReturnType<typeof setTimeout>);
      },
    };
    const { a, calls } = adapter({ clock, vmCacheTtlMs: 60_000 });
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => a.resolveVirtualMachine(VM)));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    // Ids compare case-insensitively, as in ARM.
    await a.resolveVirtualMachine(VM.toLowerCase());
    expect(calls.filter((c) => c.startsWith("GET virtualMachines"))).toHaveLength(1);
    expect(a.stats().vmLoads).toBe(1);

    offset = 60_001;
    await a.resolveVirtualMachine(VM);
    expect(calls.filter((c) => c.startsWith("GET virtualMachines"))).toHaveLength(2);

    a.invalidateVm(VM);
    await a.resolveVirtualMachine(VM);
    expect(a.stats().vmLoads).toBe(3);
  });

  it("reports a missing VM as NotFound and a malformed id as Invalid without calling ARM", async () => {
    const { a, calls } = adapter();
    const missing = await a
      .resolveVirtualMachine(`${RG}/Microsoft.Compute/virtualMachines/nope`)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AzureError);
    expect((missing as AzureError).kind).toBe("NotFound");
    expect((missing as AzureError).statusCode).toBe(404);
    const before = calls.length;
    const bad = await a.resolveVirtualMachine("web-1").catch((e: unknown) => e);
    expect((bad as AzureError).kind).toBe("Invalid");
    expect((bad as AzureError).message).toMatch(/is not of the form/);
    expect(calls).toHaveLength(before);
  });
});

describe("getNsg", () => {
  it("reads the custom rules (defaults excluded) with the etag", async () => {
    const { a } = adapter();
    const nsg = await a.getNsg(JUMP_NSG);
    expect(nsg.id.toLowerCase()).toBe(JUMP_NSG.toLowerCase());
    expect(nsg.etag).toMatch(/^W\/"/);
    expect(nsg.location).toBe("westeurope");
    expect(nsg.securityRules.map((r) => r.name)).toEqual([
      "allow-https",
      "deny-ssh-internet",
      "deny-all-out",
    ]);
    expect(nsg.securityRules[0]).toMatchObject({
      name: "allow-https",
      priority: 300,
      direction: "Inbound",
      access: "Allow",
      protocol: "Tcp",
      destinationPortRange: "443",
      destinationAddressPrefixes: ["10.0.2.4/32"],
    });
  });

  it("maps a missing NSG to NotFound with the ARM code", async () => {
    const { a } = adapter();
    const e = (await a
      .getNsg(`${RG}/Microsoft.Network/networkSecurityGroups/nope`)
      .catch((x: unknown) => x)) as AzureError;
    expect(e.kind).toBe("NotFound");
    expect(e.code).toBe("ResourceNotFound");
    expect(e.message).toContain("nope");
  });

  it("maps a rejected token to Unauthorized", async () => {
    const badToken: TokenCredential = {
      getToken: (): Promise<AccessToken> =>
        Promise.resolve({ token: "not a token", expiresOnTimestamp: Date.now() + 3600_000 }),
    };
    const { a, calls } = adapter({ credential: badToken });
    const e = (await a.getNsg(JUMP_NSG).catch((x: unknown) => x)) as AzureError;
    expect(e).toBeInstanceOf(AzureError);
    expect(e.kind).toBe("Unauthorized");
    expect(e.statusCode).toBe(401);
    expect(e.retryable).toBe(false);
    expect(calls).toEqual(["GET networkSecurityGroups 401"]);
  });
});

describe("listNsgs", () => {
  it("reads every NSG of the subscription over several pages", async () => {
    const docs = Array.from({ length: 250 }, (_, i) => ({
      id: `${BULK_RG}/bulk-${String(i).padStart(3, "0")}`,
      name: `bulk-${String(i).padStart(3, "0")}`,
      type: "Microsoft.Network/networkSecurityGroups",
      location: "westeurope",
      properties: {
        securityRules: [
          {
            name: "allow-https",
            properties: {
              protocol: "Tcp",
              sourcePortRange: "*",
              destinationPortRange: "443",
              sourceAddressPrefix: "*",
              destinationAddressPrefix: "*",
              access: "Allow",
              priority: 300,
              direction: "Inbound",
            },
          },
        ],
      },
    }));
    emu.addResources(docs);
    const { a, calls } = adapter();
    const all = await a.listNsgs(SUB);
    expect(all).toHaveLength(253); // 250 + the seed's three
    expect(new Set(all.map((n) => n.id.toLowerCase())).size).toBe(253);
    expect(all.every((n) => n.etag !== undefined)).toBe(true);
    expect(all.find((n) => n.id.endsWith("/bulk-249"))?.securityRules.map((r) => r.name)).toEqual([
      "allow-https",
    ]);
    expect(a.stats().lastListPages).toBe(3);
    expect(calls).toEqual(Array.from({ length: 3 }, () => "GET networkSecurityGroups 200"));
  });

  it("lists each NSG exactly as the SDK's own GET maps it (the list skips the SDK's models)", async () => {
    const full = `${BULK_RG}/every-field`;
    emu.addResources([
      {
        id: full,
        name: "every-field",
        type: "Microsoft.Network/networkSecurityGroups",
        location: "northeurope",
        tags: { team: "a" },
        properties: {
          securityRules: [
            {
              name: "drawbridge-p1-allow-1",
              properties: {
                description: "drawbridge grant team-a/web-admin port 22",
                protocol: "tcp",
                sourcePortRanges: ["1000-2000", "3000"],
                destinationPortRanges: ["22", "2222"],
                sourceAddressPrefixes: ["203.0.113.7/32", "198.51.100.0/24"],
                destinationAddressPrefixes: ["10.0.2.4/32"],
                access: "allow",
                priority: 100,
                direction: "inbound",
              },
            },
            {
              name: "deny-out",
              properties: {
                protocol: "*",
                sourcePortRange: "*",
                destinationPortRange: "*",
                sourceAddressPrefix: "VirtualNetwork",
                destinationAddressPrefix: "Internet",
                sourceAddressPrefixes: [],
                access: "Deny",
                priority: 4000,
                direction: "Outbound",
              },
            },
          ],
        },
      },
    ]);
    const { a } = adapter();
    const listed = await a.listNsgs(SUB);
    const ids = [full, NIC_NSG, SUBNET_NSG, JUMP_NSG, `${BULK_RG}/bulk-000`];
    for (const id of ids) {
      const one = listed.find((n) => n.id.toLowerCase() === id.toLowerCase());
      expect(one).toEqual(await a.getNsg(id));
    }
    const rules = listed.find((n) => n.id === full)?.securityRules ?? [];
    expect(rules.map((r) => [r.name, r.protocol, r.access, r.direction])).toEqual([
      ["drawbridge-p1-allow-1", "Tcp", "Allow", "Inbound"],
      ["deny-out", "*", "Deny", "Outbound"],
    ]);
  });

  it("maps a rejected token on a list to Unauthorized", async () => {
    const badToken: TokenCredential = {
      getToken: (): Promise<AccessToken> =>
        Promise.resolve({ token: "not a token", expiresOnTimestamp: Date.now() + 3600_000 }),
    };
    const { a, calls } = adapter({ credential: badToken });
    const e = (await a.listNsgs(SUB).catch((x: unknown) => x)) as AzureError;
    expect(e).toBeInstanceOf(AzureError);
    expect(e.kind).toBe("Unauthorized");
    expect(e.statusCode).toBe(401);
    expect(e.code).toBeDefined();
    expect(calls).toEqual(["GET networkSecurityGroups 401"]);
  });

  it("rejects a malformed subscription id", async () => {
    const { a } = adapter();
    await expect(a.listNsgs("../etc")).rejects.toMatchObject({ kind: "Invalid" });
  });
});
