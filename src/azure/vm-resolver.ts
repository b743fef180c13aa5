// VM -> NICs -> private IPs, subnets and NSGs, as ARM answers it: the VM GET lists NIC ids, each
// NIC GET gives its IPs, its own NSG and its subnets' ids, and each subnet GET gives the subnet NSG.
import type { NetworkInterface } from "@azure/arm-network";
import type { ArmClients } from "./clients.ts";
import { normalizeId, parseNicId, parseSubnetId, parseVmId } from "./ids.ts";
import { AzureError, type ResolvedVm } from "./port.ts";

export type ClientsFor = (subscriptionId: string) => ArmClients;

/** Append ids not yet present (ARM ids compare case-insensitively); keeps first-seen order. */
function addUnique(list: string[], seen: Set<string>, id: string | undefined): void {
  if (id === undefined || id === "") return;
  const key = normalizeId(id);
  if (seen.has(key)) return;
  seen.add(key);
  list.push(id);
}

export async function resolveVm(clientsFor: ClientsFor, vmId: string): Promise<ResolvedVm> {
  const vm = parseVmId(vmId);
  const machine = await clientsFor(vm.subscriptionId).compute.virtualMachines.get(vm.resourceGroup, vm.name);
  const nicIds = (machine.networkProfile?.networkInterfaces ?? [])
    .map((n) => n.id)
    .filter((id): id is string => id !== undefined && id !== "");
  if (nicIds.length === 0) {
    throw new AzureError(
      "Invalid",
      `virtual machine ${vmId} has no network interfaces in its network profile`,
      {
        code: "VmWithoutNetworkInterfaces",
      },
    );
  }
  const nics = await Promise.all(
    nicIds.map(async (id): Promise<NetworkInterface> => {
      const nic = parseNicId(id);
      return clientsFor(nic.subscriptionId).network.networkInterfaces.get(nic.resourceGroup, nic.name);
    }),
  );

  const ips: string[] = [];
  const ipSeen = new Set<string>();
  const nicNsgs: string[] = [];
  const nicNsgSeen = new Set<string>();
  const subnetIds: string[] = [];
  const subnetSeen = new Set<string>();
  for (const nic of nics) {
    addUnique(nicNsgs, nicNsgSeen, nic.networkSecurityGroup?.id);
    for (const ipc of nic.ipConfigurations ?? []) {
      addUnique(ips, ipSeen, ipc.privateIPAddress);
      addUnique(subnetIds, subnetSeen, ipc.subnet?.id);
    }
  }

  const subnets = await Promise.all(
    subnetIds.map(async (id) => {
      const s = parseSubnetId(id);
      return clientsFor(s.subscriptionId).network.subnets.get(s.resourceGroup, s.virtualNetwork, s.subnet);
    }),
  );
  const subnetNsgs: string[] = [];
  const subnetNsgSeen = new Set<string>();
  for (const s of subnets) addUnique(subnetNsgs, subnetNsgSeen, s.networkSecurityGroup?.id);

  return { id: vmId, privateIpAddresses: ips, networkInterfaceNsgIds: nicNsgs, subnetNsgIds: subnetNsgs };
}
