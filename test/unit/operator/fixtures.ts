// Small builders for operator unit tests.
import type { AccessRequest, JitPolicy } from "../../../src/api/types.ts";
import type { SecurityRule } from "../../../src/core/index.ts";
import type { NsgRecord } from "../../../src/operator/state/ledger.ts";

export const SUB = "00000000-0000-0000-0000-000000000001";
export const VM = `/subscriptions/${SUB}/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/web-1`;
export const NIC_NSG = `/subscriptions/${SUB}/resourceGroups/demo-rg/providers/Microsoft.Network/networkSecurityGroups/web-1-nic-nsg`;
export const SUBNET_NSG = `/subscriptions/${SUB}/resourceGroups/demo-rg/providers/Microsoft.Network/networkSecurityGroups/web-subnet-nsg`;
export const JUMP_NSG = `/subscriptions/${SUB}/resourceGroups/demo-rg/providers/Microsoft.Network/networkSecurityGroups/jump-nsg`;

export function policy(overrides: Partial<JitPolicy["spec"]> = {}, resolved = true): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { name: "web-admin", namespace: "team-a", generation: 1, resourceVersion: "1" },
    spec: {
      targets: [
        { virtualMachineId: VM },
        { networkSecurityGroupId: JUMP_NSG, destinationAddressPrefixes: ["10.0.2.4/32"] },
      ],
      ports: [
        {
          number: 22,
          protocol: "TCP",
          allowedSourceAddressPrefixes: ["203.0.113.0/24"],
          maxDuration: "PT3H",
        },
        { number: 3389, protocol: "TCP", maxDuration: "PT1H" },
      ],
      priorityRange: { from: 100, to: 199 },
      nsgScope: "All",
      ...overrides,
    },
    status: resolved
      ? {
          targets: [
            { id: VM, privateIpAddresses: ["10.0.1.4"], networkSecurityGroupIds: [NIC_NSG, SUBNET_NSG] },
            { id: JUMP_NSG, privateIpAddresses: [], networkSecurityGroupIds: [JUMP_NSG] },
          ],
        }
      : {},
  };
}

export function request(
  status?: AccessRequest["status"],
  extra: Partial<AccessRequest["metadata"]> = {},
): AccessRequest {
  const r: AccessRequest = {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: {
      name: "alice-1",
      namespace: "team-a",
      generation: 1,
      resourceVersion: "5",
      creationTimestamp: "2026-01-01T00:00:00Z",
      finalizers: ["jit.drawbridge.dev/finalizer"],
      ...extra,
    },
    spec: {
      policyName: "web-admin",
      ports: [22],
      sourceAddressPrefix: "203.0.113.7/32",
      duration: "PT1H",
      justification: "test",
      requester: "alice",
    },
  };
  if (status !== undefined) r.status = status;
  return r;
}

/** A rule someone else made (the portal, another tool). */
export function foreignRule(name: string, priority: number, extra: Partial<SecurityRule> = {}): SecurityRule {
  return {
    name,
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    description: "hand-made",
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    destinationPortRange: "443",
    ...extra,
  };
}

/** An NSG's ledger record with nothing placed, refused or failed (seq 1), but for `over`. */
export function nsgRecord(over: Partial<NsgRecord> = {}): NsgRecord {
  return {
    seq: 1,
    placements: new Map(),
    rejected: new Map(),
    failed: new Map(),
    conflicts: [],
    shadowed: [],
    error: undefined,
    lastWriteAt: undefined,
    policiesWithRules: new Set(),
    ...over,
  };
}
