// Address prefix and port range checks the way Network validates security rules.
import ipaddr from "ipaddr.js";

// Service tags Azure accepts (a regional form like Storage.WestEurope is accepted for each).
// Anything else that is not an IP or CIDR ("any", "all") is refused, as Azure does.
const SERVICE_TAGS = new Set(
  [
    "VirtualNetwork",
    "Internet",
    "AzureLoadBalancer",
    "AzureCloud",
    "Storage",
    "Sql",
    "SqlManagement",
    "AzureActiveDirectory",
    "AzureMonitor",
    "AppService",
    "AppServiceManagement",
    "AzureKeyVault",
    "EventHub",
    "ServiceBus",
    "AzureContainerRegistry",
    "AzureCosmosDB",
    "GatewayManager",
    "AzureTrafficManager",
    "AzureBackup",
    "AzureFrontDoor",
    "ApiManagement",
    "AzureBastion",
    "AzureDatabricks",
    "AzureKubernetesService",
    "AzureMachineLearning",
    "AzureResourceManager",
    "BatchNodeManagement",
    "DataFactory",
    "GuestAndHybridManagement",
    "MicrosoftContainerRegistry",
    "PowerBI",
    "AzureUpdateDelivery",
    "AzurePlatformDNS",
    "AzurePlatformIMDS",
    "AzurePlatformLKM",
    "Dynamics365ForMarketingEmail",
    "AzureConnectors",
    "AzureDevOps",
    "AzureCognitiveSearch",
  ].map((t) => t.toLowerCase()),
);

/** `*`, a service tag (VirtualNetwork, Internet, Storage.WestEurope, ...), an IP or a CIDR. */
export function isValidAddressPrefix(value: string): boolean {
  if (value === "*") return true;
  const tag = /^([A-Za-z][A-Za-z0-9]*)(\.[A-Za-z0-9]+)?$/.exec(value);
  if (tag !== null) return SERVICE_TAGS.has((tag[1] ?? "").toLowerCase());
  if (value.includes("/")) {
    if (!ipaddr.isValidCIDR(value)) return false;
    if (value.includes(":")) {
      return (
        ipaddr.IPv6.networkAddressFromCIDR(value).toString() ===
        ipaddr.parse(value.split("/")[0] ?? "").toString()
      );
    }
    // Azure refuses a CIDR whose host bits are set (10.0.0.5/24).
    if (!ipaddr.IPv4.isValidFourPartDecimal(value.split("/")[0] ?? "")) return false;
    return ipaddr.IPv4.networkAddressFromCIDR(value).toString() === value.split("/")[0];
  }
  if (value.includes(":")) return ipaddr.IPv6.isValid(value);
  return ipaddr.IPv4.isValidFourPartDecimal(value);
}

/** True for `*` and service tags, which are not allowed inside the plural `...Prefixes` arrays. */
export function isWildcardOrTag(value: string): boolean {
  return value === "*" || /^[A-Za-z]/.test(value);
}

export function isValidPortRange(value: string): boolean {
  if (value === "*") return true;
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
  if (m === null) return false;
  const low = Number(m[1]);
  const high = m[2] === undefined ? low : Number(m[2]);
  return low >= 0 && high <= 65535 && low <= high;
}
