// JitPolicy target resolution: a VM becomes its private IPs plus the NIC and/or subnet NSGs that
// filter its traffic (per nsgScope); an NSG target is taken as declared. Per-target failures are
// reported in status (message) instead of failing the whole policy; transient errors are thrown so
// the queue retries with backoff and the previous resolution stays in force meanwhile.
import type { JitPolicy, NsgScope, ResolvedTargetStatus } from "../../api/types.ts";
import type { AzurePort, ResolvedVm } from "../../azure/port.ts";
import { AzureError } from "../../azure/port.ts";

export interface Resolution {
  targets: ResolvedTargetStatus[];
  /** Targets that could not be resolved, with why ("<id>: <message>"). */
  problems: string[];
}

export function scopedNsgs(vm: ResolvedVm, scope: NsgScope): string[] {
  const ids =
    scope === "NetworkInterface"
      ? vm.networkInterfaceNsgIds
      : scope === "Subnet"
        ? vm.subnetNsgIds
        : [...vm.networkInterfaceNsgIds, ...vm.subnetNsgIds];
  const seen = new Set<string>();
  return ids.filter((id) => {
    const k = id.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export async function resolveTargets(policy: JitPolicy, azure: AzurePort): Promise<Resolution> {
  const out: Resolution = { targets: [], problems: [] };
  // The CRD defaults nsgScope to All; objects written before that default still mean All.
  const scope: NsgScope = (policy.spec as { nsgScope?: NsgScope }).nsgScope ?? "All";
  for (const target of policy.spec.targets) {
    if (target.networkSecurityGroupId !== undefined) {
      out.targets.push({
        id: target.networkSecurityGroupId,
        privateIpAddresses: [],
        networkSecurityGroupIds: [target.networkSecurityGroupId],
      });
      continue;
    }
    const vmId = target.virtualMachineId;
    if (vmId === undefined) continue;
    try {
      const vm = await azure.resolveVirtualMachine(vmId);
      const nsgs = scopedNsgs(vm, scope);
      const entry: ResolvedTargetStatus = {
        id: vmId,
        privateIpAddresses: vm.privateIpAddresses,
        networkSecurityGroupIds: nsgs,
      };
      if (nsgs.length === 0) {
        entry.message = `no ${scope === "All" ? "NIC or subnet" : scope} NSG filters this VM`;
        out.problems.push(`${vmId}: ${entry.message}`);
      } else if (vm.privateIpAddresses.length === 0) {
        entry.message = "the VM has no private IP address";
        out.problems.push(`${vmId}: ${entry.message}`);
      }
      out.targets.push(entry);
    } catch (err) {
      if (err instanceof AzureError && (err.kind === "NotFound" || err.kind === "Invalid")) {
        out.targets.push({ id: vmId, message: err.message });
        out.problems.push(`${vmId}: ${err.message}`);
        continue;
      }
      throw err;
    }
  }
  return out;
}
