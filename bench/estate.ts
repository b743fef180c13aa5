// The benchmark's Azure estate and Kubernetes objects: NSGs with a few foreign rules (added to the
// emulator through its admin endpoint), JitPolicies with NSG targets, AccessRequests whose sources
// come from the benchmarking range 198.18.0.0/15 (RFC 2544).
import { API_GROUP_VERSION } from "../src/api/types.ts";
import type { SecurityRule } from "../src/core/index.ts";

export const BENCH_SUB = "00000000-0000-0000-0000-000000000001";
/** The resync estate lives in its own subscription, so its paged lists hold only its NSGs. */
export const RESYNC_SUB = "00000000-0000-0000-0000-0000000000b2";
/**
 * S subscriptions of their own for an estate of N NSGs (N in the fourth group), so estates of
 * different sizes on one emulator never list each other's NSGs; `marker` (6 hex digits) keeps
 * scenarios of the same size apart.
 */
export function estateSubscriptions(nsgs: number, count: number, marker = "e57a7e"): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 4096)
    throw new Error(`subscriptions: expected an integer 1..4096, got ${count}`);
  if (!Number.isInteger(nsgs) || nsgs < 0 || nsgs > 0xffff)
    throw new Error(`nsgs: expected an integer 0..65535 for the subscription ids, got ${nsgs}`);
  const size = nsgs.toString(16).padStart(4, "0");
  return Array.from(
    { length: count },
    (_, i) => `00000000-0000-0000-${size}-${marker}${i.toString(16).padStart(6, "0")}`,
  );
}

export const BENCH_RG = "bench-rg";
export const SOURCE_RANGE = "198.18.0.0/15";
export const PORT = 22;

export function nsgId(name: string, sub = BENCH_SUB): string {
  return `/subscriptions/${sub}/resourceGroups/${BENCH_RG}/providers/Microsoft.Network/networkSecurityGroups/${name}`;
}

/** The foreign rules every bench NSG carries (outside the drawbridge band 100..199). */
export function foreignRules(): SecurityRule[] {
  return [
    {
      name: "allow-https",
      priority: 300,
      direction: "Inbound",
      access: "Allow",
      protocol: "Tcp",
      sourceAddressPrefix: "*",
      sourcePortRange: "*",
      destinationAddressPrefix: "*",
      destinationPortRange: "443",
    },
    {
      name: "deny-all-out",
      priority: 4000,
      direction: "Outbound",
      access: "Deny",
      protocol: "*",
      sourceAddressPrefix: "*",
      sourcePortRange: "*",
      destinationAddressPrefix: "*",
      destinationPortRange: "*",
    },
  ];
}

/** An ARM NSG document as a GET returns it (the emulator's seed format). */
export function nsgDocument(id: string, rules: SecurityRule[]): Record<string, unknown> {
  const name = id.split("/").pop() ?? "";
  return {
    id,
    name,
    type: "Microsoft.Network/networkSecurityGroups",
    location: "westeurope",
    properties: {
      securityRules: rules.map((r) => {
        const { name: ruleName, etag: _etag, provisioningState: _ps, ...properties } = r;
        return { name: ruleName, properties: { sourcePortRange: "*", ...properties } };
      }),
    },
  };
}

/** The n-th /32 of the benchmark range. */
export function sourceOf(n: number): string {
  if (n < 0 || n >= 131_072) throw new Error(`source index ${n} outside ${SOURCE_RANGE}`);
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}/32`;
}

export function policyObject(namespace: string, name: string, nsgIds: string[]): Record<string, unknown> {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: "JitPolicy",
    metadata: { name, namespace },
    spec: {
      targets: nsgIds.map((id) => ({
        networkSecurityGroupId: id,
        destinationAddressPrefixes: ["10.0.2.4/32"],
      })),
      ports: [
        { number: PORT, protocol: "TCP", allowedSourceAddressPrefixes: [SOURCE_RANGE], maxDuration: "PT3H" },
      ],
      priorityRange: { from: 100, to: 199 },
      nsgScope: "All",
    },
  };
}

export interface RequestInput {
  namespace: string;
  name: string;
  policy: string;
  source: string;
  duration: string;
  /** Restrict to these targets of the policy; omitted = all. */
  targets?: string[];
  finalizers?: string[];
}

export function requestObject(r: RequestInput): Record<string, unknown> {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: "AccessRequest",
    metadata: {
      name: r.name,
      namespace: r.namespace,
      ...(r.finalizers === undefined ? {} : { finalizers: r.finalizers }),
    },
    spec: {
      policyName: r.policy,
      ...(r.targets === undefined ? {} : { targets: r.targets }),
      ports: [PORT],
      sourceAddressPrefix: r.source,
      duration: r.duration,
      justification: "benchmark",
      requester: "alice",
    },
  };
}
