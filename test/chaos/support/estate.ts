// The chaos estate: the shared demo seed plus N standalone NSGs (`chaos-nsg-NN`), each with the
// foreign rules the seed's NSGs carry, and a JitPolicy whose NSG targets cover all of them. Sources
// come from 198.18.0.0/15 (the benchmarking range) so hundreds of requests each get their own /32.
import type { AccessRequest, JitPolicy } from "../../../src/api/types.ts";

export const SUB = "00000000-0000-0000-0000-000000000001";
export const RG_ID = `/subscriptions/${SUB}/resourceGroups/demo-rg`;
export const NSG_PREFIX = `${RG_ID}/providers/Microsoft.Network/networkSecurityGroups/`;
export const SOURCE_RANGE = "198.18.0.0/15";
export const PORTS = [22, 3389] as const;
export const BAND = { from: 100, to: 199 } as const;

export function chaosNsgId(i: number): string {
  return `${NSG_PREFIX}chaos-nsg-${String(i).padStart(2, "0")}`;
}

/** The destination each chaos NSG target declares: one host per NSG, 10.9.<i>.4/32. */
export function destinationOf(i: number): string {
  return `10.9.${i}.4/32`;
}

function rule(name: string, props: Record<string, unknown>): Record<string, unknown> {
  return { name, properties: { sourcePortRange: "*", ...props } };
}

/** Foreign rules like the seed's: none inside the band, one at each end of the priority space. */
export function foreignRules(i: number): Record<string, unknown>[] {
  return [
    rule("allow-https", {
      description: "HTTPS from anywhere",
      protocol: "Tcp",
      destinationPortRange: "443",
      sourceAddressPrefix: "*",
      destinationAddressPrefix: destinationOf(i),
      access: "Allow",
      priority: 300,
      direction: "Inbound",
    }),
    rule("deny-ssh-internet", {
      protocol: "Tcp",
      destinationPortRange: "22",
      sourceAddressPrefix: "Internet",
      destinationAddressPrefix: "*",
      access: "Deny",
      priority: 3000,
      direction: "Inbound",
    }),
    rule("deny-all-out", {
      protocol: "*",
      destinationPortRange: "*",
      sourceAddressPrefix: "*",
      destinationAddressPrefix: "Internet",
      access: "Deny",
      priority: 4000,
      direction: "Outbound",
    }),
  ];
}

export function chaosNsgDocs(count: number): unknown[] {
  return Array.from({ length: count }, (_, i) => ({
    id: chaosNsgId(i),
    name: `chaos-nsg-${String(i).padStart(2, "0")}`,
    type: "Microsoft.Network/networkSecurityGroups",
    location: "westeurope",
    properties: { securityRules: foreignRules(i) },
  }));
}

export function chaosPolicy(ns: string, nsgCount: number, name = "chaos"): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { name, namespace: ns },
    spec: {
      targets: Array.from({ length: nsgCount }, (_, i) => ({
        networkSecurityGroupId: chaosNsgId(i),
        destinationAddressPrefixes: [destinationOf(i)],
      })),
      ports: PORTS.map((number) => ({
        number,
        protocol: "TCP" as const,
        allowedSourceAddressPrefixes: [SOURCE_RANGE],
        maxDuration: "PT1H",
      })),
      priorityRange: { ...BAND },
      nsgScope: "All",
    },
  };
}

/** The n-th distinct /32 inside SOURCE_RANGE (198.18.x.y, skipping .0 and .255 for readability). */
export function sourceOf(n: number): string {
  const host = n % 250;
  const third = Math.floor(n / 250);
  return `198.${18 + Math.floor(third / 256)}.${third % 256}.${host + 1}/32`;
}

export function chaosRequest(
  ns: string,
  n: number,
  opts: { ports: number[]; duration: string; policy?: string },
): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { name: `chaos-${String(n).padStart(4, "0")}`, namespace: ns },
    spec: {
      policyName: opts.policy ?? "chaos",
      ports: opts.ports,
      sourceAddressPrefix: sourceOf(n),
      duration: opts.duration,
      justification: "fault-tolerance workload",
      requester: "alice",
    },
  };
}
