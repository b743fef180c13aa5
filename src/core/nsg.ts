// The NSG model the pure core plans over and the Azure port reads and writes. Field names follow
// the ARM SecurityRule properties so adapters map one to one.

export type RuleDirection = "Inbound" | "Outbound";
export type RuleAccess = "Allow" | "Deny";
/** ARM SecurityRuleProtocol values. */
export type RuleProtocol = "Tcp" | "Udp" | "Icmp" | "Esp" | "Ah" | "*";

export interface SecurityRule {
  name: string;
  priority: number;
  direction: RuleDirection;
  access: RuleAccess;
  protocol: RuleProtocol;
  description?: string;
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  sourcePortRange?: string;
  sourcePortRanges?: string[];
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
  destinationPortRange?: string;
  destinationPortRanges?: string[];
  /** Read-only, from ARM; never compared by the planner. */
  etag?: string;
  provisioningState?: string;
}

/** An NSG as read from ARM: its custom security rules (defaults excluded), and its etag. */
export interface ObservedNsg {
  /** Full ARM id. */
  id: string;
  etag?: string;
  location?: string;
  securityRules: SecurityRule[];
}

/** Every rule drawbridge owns carries this name prefix; every other rule is foreign. */
export const MANAGED_RULE_PREFIX = "drawbridge-";

export const AZURE_LIMITS = {
  rulesPerNsg: 1000,
  prefixesPerNsg: 4000,
  minPriority: 100,
  maxPriority: 4096,
  ruleNameMax: 80,
  descriptionMax: 140,
} as const;

export function isManagedRule(rule: Pick<SecurityRule, "name">): boolean {
  return rule.name.startsWith(MANAGED_RULE_PREFIX);
}
