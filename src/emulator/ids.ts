// ARM resource ids: ARM compares them case-insensitively, so the store keys everything by the
// lower-cased id while documents keep the casing they were created with.

export function idKey(id: string): string {
  return id.toLowerCase().replace(/\/+$/, "");
}

export interface ParsedResourceId {
  subscriptionId: string;
  resourceGroup: string;
  provider: string;
  type: string;
  name: string;
}

/** Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}`. */
export function parseResourceId(id: string): ParsedResourceId | undefined {
  const parts = id.split("/").filter((p) => p !== "");
  if (parts.length < 8) return undefined;
  const [subs, sub, rgs, rg, providers, provider, type, name] = parts;
  if (subs?.toLowerCase() !== "subscriptions" || rgs?.toLowerCase() !== "resourcegroups") return undefined;
  if (providers?.toLowerCase() !== "providers") return undefined;
  if (sub === undefined || rg === undefined || provider === undefined || type === undefined) return undefined;
  if (name === undefined) return undefined;
  return { subscriptionId: sub, resourceGroup: rg, provider, type, name };
}

export function resourceGroupKey(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}`.toLowerCase();
}

export function nsgId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/networkSecurityGroups/${name}`;
}
