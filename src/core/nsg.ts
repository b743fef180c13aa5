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

/**
 * Every rule the default drawbridge instance (instance id "") owns carries this name prefix. A named
 * instance's rules start "drawbridge.<id>-" instead (instanceRulePrefix), so instances sharing an NSG
 * never take each other's rules for their own.
 */
export const MANAGED_RULE_PREFIX = "drawbridge-";

const NAMED_INSTANCE_HEAD = "drawbridge.";

/** Longest instance id: keeps a named instance's rule names within Azure's 80 characters. */
export const INSTANCE_ID_MAX = 12;

export const AZURE_LIMITS = {
  rulesPerNsg: 1000,
  prefixesPerNsg: 4000,
  minPriority: 100,
  maxPriority: 4096,
  ruleNameMax: 80,
  descriptionMax: 140,
} as const;

/** "" (the default instance) or 1..INSTANCE_ID_MAX of [a-z0-9]: no "-", so no id's prefix starts another's. */
export function isValidInstanceId(id: string): boolean {
  return id === "" || (id.length <= INSTANCE_ID_MAX && /^[a-z0-9]+$/.test(id));
}

/** The name prefix of an instance's rules; throws on an invalid id, whose prefix could claim another's rules. */
export function instanceRulePrefix(instance: string): string {
  if (!isValidInstanceId(instance)) {
    throw new RangeError(
      `instance id ${JSON.stringify(instance)} is invalid: use "" (the default instance) or 1..${INSTANCE_ID_MAX} of [a-z0-9]`,
    );
  }
  return instance === "" ? MANAGED_RULE_PREFIX : `${NAMED_INSTANCE_HEAD}${instance}-`;
}

/**
 * True when `name` starts with `prefix` (lower-case) in any letter case: ARM names compare
 * case-insensitively, so "Drawbridge-x" is the same rule as "drawbridge-x".
 */
export function startsWithFolded(name: string, prefix: string): boolean {
  if (name.startsWith(prefix)) return true;
  if (name.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    const p = prefix.charCodeAt(i);
    const c = name.charCodeAt(i);
    if (c !== p && !(p >= 97 && p <= 122 && c === p - 32)) return false;
  }
  return true;
}

/**
 * True when some drawbridge instance (the default or a named one) owns the rule, in any letter case.
 * The Azure adapter's guard: it never touches a rule no instance could own. Which instance's rules a
 * plan may change is decided by isOwnRule.
 */
export function isManagedRule(rule: Pick<SecurityRule, "name">): boolean {
  const name = rule.name;
  if (startsWithFolded(name, MANAGED_RULE_PREFIX)) return true;
  if (!startsWithFolded(name, NAMED_INSTANCE_HEAD)) return false;
  const dash = name.indexOf("-", NAMED_INSTANCE_HEAD.length);
  return (
    dash > NAMED_INSTANCE_HEAD.length &&
    isValidInstanceId(name.slice(NAMED_INSTANCE_HEAD.length, dash).toLowerCase())
  );
}
