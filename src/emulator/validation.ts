// Security rule and NSG validation with Network's error codes. Every check runs before any
// state changes, so a refused request never leaves a partial write behind.
import { ArmError, badRequest } from "./errors.ts";
import { isValidAddressPrefix, isValidPortRange, isWildcardOrTag } from "./prefixes.ts";

export const LIMITS = { rulesPerNsg: 1000, prefixesPerNsg: 4000, nameMax: 80, descriptionMax: 140 };

const PROTOCOLS = ["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"];
const ACCESS = ["Allow", "Deny"];
const DIRECTIONS = ["Inbound", "Outbound"];
const NAME_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$/;

export type RuleProperties = Record<string, unknown>;

export function validateName(name: string, what: string): void {
  if (name.length > LIMITS.nameMax || !NAME_RE.test(name)) {
    throw badRequest(
      "InvalidResourceName",
      `Resource name ${name} is invalid. The ${what} name can be up to ${LIMITS.nameMax} characters long. It must begin with a word character, and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'.`,
    );
  }
}

function canonical(value: unknown, allowed: string[], field: string, ruleId: string): string {
  if (value === undefined || value === null) {
    throw badRequest(
      "InvalidRequestFormat",
      `Security rule ${ruleId}: required property '${field}' is missing.`,
    );
  }
  const found =
    typeof value === "string" ? allowed.find((a) => a.toLowerCase() === value.toLowerCase()) : undefined;
  if (found === undefined) {
    throw badRequest(
      "InvalidRequestFormat",
      `Security rule ${ruleId}: property '${field}' has invalid value '${JSON.stringify(value)}'; allowed: ${allowed.join(", ")}.`,
    );
  }
  return found;
}

function stringList(value: unknown, field: string, ruleId: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw badRequest(
      "InvalidRequestFormat",
      `Security rule ${ruleId}: property '${field}' must be an array of strings.`,
    );
  }
  return value as string[];
}

function optString(value: unknown, field: string, ruleId: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw badRequest(
      "InvalidRequestFormat",
      `Security rule ${ruleId}: property '${field}' must be a string.`,
    );
  }
  return value;
}

function checkPriority(value: unknown, ruleId: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 100 || value > 4096) {
    throw badRequest(
      "SecurityRuleInvalidPriority",
      `Security rule ${ruleId} has invalid Priority. Value provided: ${String(value)}. Allowed range 100-4096.`,
    );
  }
  return value;
}

function checkPorts(
  p: RuleProperties,
  side: "source" | "destination",
  ruleId: string,
): [string | undefined, string[]] {
  const single = optString(p[`${side}PortRange`], `${side}PortRange`, ruleId);
  const list = stringList(p[`${side}PortRanges`], `${side}PortRanges`, ruleId);
  if ((single === undefined) === (list.length === 0)) {
    throw badRequest(
      "SecurityRuleInvalidPortRange",
      `Security rule ${ruleId} must specify exactly one of ${side}PortRange or ${side}PortRanges.`,
    );
  }
  for (const v of single === undefined ? list : [single]) {
    if (!isValidPortRange(v) || (list.length > 0 && v === "*")) {
      throw badRequest(
        "SecurityRuleInvalidPortRange",
        `Security rule ${ruleId} has invalid Port range. Value provided: ${v}. Value should be an integer OR integer range with '-' delimiter. Valid range 0-65535.`,
      );
    }
  }
  return [single, list];
}

function checkPrefixes(
  p: RuleProperties,
  side: "source" | "destination",
  ruleId: string,
): [string | undefined, string[]] {
  const single = optString(p[`${side}AddressPrefix`], `${side}AddressPrefix`, ruleId);
  const list = stringList(p[`${side}AddressPrefixes`], `${side}AddressPrefixes`, ruleId);
  if (single !== undefined && list.length > 0) {
    throw badRequest(
      "SecurityRuleParameterContainsUnsupportedValue",
      `Security rule ${ruleId} specifies both ${side}AddressPrefix and ${side}AddressPrefixes; use one.`,
    );
  }
  if (single === undefined && list.length === 0) {
    throw badRequest(
      "SecurityRuleInvalidAddressPrefix",
      `Security rule ${ruleId} has no ${side} address prefix.`,
    );
  }
  for (const v of list) {
    if (isWildcardOrTag(v)) {
      throw badRequest(
        "SecurityRuleParameterContainsUnsupportedValue",
        `Security rule parameter ${side}AddressPrefixes for rule with Id ${ruleId} cannot specify existing VIRTUALNETWORK, INTERNET, AZURELOADBALANCER, '*' or system tags. Unsupported value used: ${v}.`,
      );
    }
  }
  for (const v of single === undefined ? list : [single]) {
    if (!isValidAddressPrefix(v)) {
      throw badRequest(
        "SecurityRuleInvalidAddressPrefix",
        `Security rule ${ruleId} has invalid Address prefix. Value provided: ${v}.`,
      );
    }
  }
  return [single, list];
}

/** Validates one rule body's `properties` and returns them normalized as ARM returns them. */
export function normalizeRuleProperties(raw: unknown, ruleId: string): RuleProperties {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw badRequest("InvalidRequestFormat", `Security rule ${ruleId}: 'properties' must be an object.`);
  }
  const p = raw as RuleProperties;
  const description = optString(p["description"], "description", ruleId);
  if (description !== undefined && description.length > LIMITS.descriptionMax) {
    throw badRequest(
      "SecurityRuleDescriptionTooLong",
      `Security rule ${ruleId}: description is ${description.length} characters; the limit is ${LIMITS.descriptionMax}.`,
    );
  }
  const protocol = canonical(p["protocol"], PROTOCOLS, "protocol", ruleId);
  const access = canonical(p["access"], ACCESS, "access", ruleId);
  const direction = canonical(p["direction"], DIRECTIONS, "direction", ruleId);
  const priority = checkPriority(p["priority"], ruleId);
  const [srcPort, srcPorts] = checkPorts(p, "source", ruleId);
  const [dstPort, dstPorts] = checkPorts(p, "destination", ruleId);
  const [src, srcs] = checkPrefixes(p, "source", ruleId);
  const [dst, dsts] = checkPrefixes(p, "destination", ruleId);
  const out: RuleProperties = { provisioningState: "Succeeded" };
  if (description !== undefined) out["description"] = description;
  out["protocol"] = protocol;
  if (srcPort !== undefined) out["sourcePortRange"] = srcPort;
  if (dstPort !== undefined) out["destinationPortRange"] = dstPort;
  if (src !== undefined) out["sourceAddressPrefix"] = src;
  if (dst !== undefined) out["destinationAddressPrefix"] = dst;
  Object.assign(out, {
    access,
    priority,
    direction,
    sourcePortRanges: srcPorts,
    destinationPortRanges: dstPorts,
    sourceAddressPrefixes: srcs,
    destinationAddressPrefixes: dsts,
  });
  return out;
}

interface RuleLike {
  name: string;
  properties: RuleProperties;
}

function prefixCount(p: RuleProperties): number {
  const count = (k: string): number => (Array.isArray(p[k]) ? (p[k] as unknown[]).length : 0);
  const one = (k: string): number => (typeof p[k] === "string" ? 1 : 0);
  return (
    count("sourceAddressPrefixes") +
    count("destinationAddressPrefixes") +
    one("sourceAddressPrefix") +
    one("destinationAddressPrefix")
  );
}

/** NSG-wide checks over the complete rule set a write would produce. */
export function validateRuleSet(rules: RuleLike[], nsgId: string): void {
  if (rules.length > LIMITS.rulesPerNsg) {
    throw badRequest(
      "SecurityRuleCountLimitReached",
      `A security group cannot have more than ${LIMITS.rulesPerNsg} security rules (${rules.length} requested on ${nsgId}).`,
    );
  }
  const seenNames = new Set<string>();
  const seenSlots = new Map<string, string>();
  let prefixes = 0;
  for (const r of rules) {
    const lower = r.name.toLowerCase();
    if (seenNames.has(lower)) {
      throw badRequest(
        "DuplicateResourceName",
        `Security rule name ${r.name} appears more than once in ${nsgId}.`,
      );
    }
    seenNames.add(lower);
    const slot = `${String(r.properties["direction"])}:${String(r.properties["priority"])}`;
    const other = seenSlots.get(slot);
    if (other !== undefined) {
      throw new ArmError(
        400,
        "SecurityRuleConflict",
        `Security rule ${r.name} conflicts with rule ${other}. Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules.`,
      );
    }
    seenSlots.set(slot, r.name);
    prefixes += prefixCount(r.properties);
  }
  if (prefixes > LIMITS.prefixesPerNsg) {
    throw badRequest(
      "SecurityRuleAddressPrefixesLimitReached",
      `The security rules of ${nsgId} would use ${prefixes} address prefixes; the limit is ${LIMITS.prefixesPerNsg} per network security group.`,
    );
  }
}
