// ARM resource ids: parsed once at the boundary so a malformed id fails with a clear message
// instead of becoming a confusing 404 (or a request against the wrong resource) later. And the
// api-version an ARM link (a list page's nextLink, an operation's poll URL) is followed with.
import { AzureError } from "./port.ts";

export interface ArmResourceId {
  subscriptionId: string;
  resourceGroup: string;
  /** e.g. "Microsoft.Network" */
  provider: string;
  /** e.g. "networkSecurityGroups" */
  type: string;
  name: string;
}

const ID_RE = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/([^/]+)\/([^/]+)$/i;

/** Parse a top-level ARM resource id and require the given provider/type (case-insensitive, as ARM). */
export function parseResourceId(id: string, provider: string, type: string): ArmResourceId {
  const m = ID_RE.exec(id);
  if (m === null) {
    throw new AzureError(
      "Invalid",
      `resource id ${JSON.stringify(id)} is not of the form /subscriptions/<sub>/resourceGroups/<rg>/providers/${provider}/${type}/<name>`,
      { code: "InvalidResourceId" },
    );
  }
  const [, subscriptionId = "", resourceGroup = "", prov = "", typ = "", name = ""] = m;
  if (prov.toLowerCase() !== provider.toLowerCase() || typ.toLowerCase() !== type.toLowerCase()) {
    throw new AzureError(
      "Invalid",
      `resource id ${JSON.stringify(id)} names ${prov}/${typ}, expected ${provider}/${type}`,
      { code: "InvalidResourceType" },
    );
  }
  return {
    subscriptionId,
    resourceGroup,
    provider: prov,
    type: typ,
    name: decodeURIComponent(name),
  };
}

export function parseNsgId(id: string): ArmResourceId {
  return parseResourceId(id, "Microsoft.Network", "networkSecurityGroups");
}

export function parseVmId(id: string): ArmResourceId {
  return parseResourceId(id, "Microsoft.Compute", "virtualMachines");
}

export function parseNicId(id: string): ArmResourceId {
  return parseResourceId(id, "Microsoft.Network", "networkInterfaces");
}

export interface SubnetId {
  subscriptionId: string;
  resourceGroup: string;
  virtualNetwork: string;
  subnet: string;
}

const SUBNET_RE =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i;

export function parseSubnetId(id: string): SubnetId {
  const m = SUBNET_RE.exec(id);
  if (m === null) {
    throw new AzureError(
      "Invalid",
      `subnet id ${JSON.stringify(id)} is not of the form /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<name>`,
      { code: "InvalidResourceId" },
    );
  }
  const [, subscriptionId = "", resourceGroup = "", virtualNetwork = "", subnet = ""] = m;
  return {
    subscriptionId,
    resourceGroup,
    virtualNetwork: decodeURIComponent(virtualNetwork),
    subnet: decodeURIComponent(subnet),
  };
}

/** ARM ids compare case-insensitively; this is the form used for cache keys and dedupe. */
export function normalizeId(id: string): string {
  return id.toLowerCase();
}

/** The SDK adds the api-version to a link ARM sent without one (nextLink, poll URL); so does this. */
export function withApiVersion(link: string, apiVersion: string): string {
  const url = new URL(link);
  if (!url.searchParams.has("api-version")) url.searchParams.set("api-version", apiVersion);
  return url.toString();
}
