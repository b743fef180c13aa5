// SecurityRule (src/core/nsg.ts) <-> the SDK's SecurityRule, one to one. Reading keeps etag and
// provisioningState; writing drops every read-only field (id, etag, type, provisioningState) so
// the body is exactly what Azure accepts in a PUT.
import type { NetworkSecurityGroup, SecurityRule as SdkSecurityRule } from "@azure/arm-network";
import type { ObservedNsg, RuleAccess, RuleDirection, RuleProtocol, SecurityRule } from "../core/nsg.ts";
import { AzureError } from "./port.ts";

const PROTOCOLS: readonly RuleProtocol[] = ["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"];
const DIRECTIONS: readonly RuleDirection[] = ["Inbound", "Outbound"];
const ACCESSES: readonly RuleAccess[] = ["Allow", "Deny"];

/** ARM answers enum values case-insensitively in places; normalise to the spelling the core uses. */
function pick<T extends string>(
  allowed: readonly T[],
  value: string | undefined,
  field: string,
  rule: string,
): T {
  const hit = allowed.find((a) => a.toLowerCase() === (value ?? "").toLowerCase());
  if (hit === undefined) {
    throw new AzureError(
      "Invalid",
      `security rule ${JSON.stringify(rule)}: ${field} ${JSON.stringify(value)} is not one of ${allowed.join(", ")}`,
      { code: "UnexpectedRuleShape" },
    );
  }
  return hit;
}

const OPTIONAL_STRINGS = [
  "description",
  "sourceAddressPrefix",
  "sourcePortRange",
  "destinationAddressPrefix",
  "destinationPortRange",
  "etag",
  "provisioningState",
] as const;

const OPTIONAL_LISTS = [
  "sourceAddressPrefixes",
  "sourcePortRanges",
  "destinationAddressPrefixes",
  "destinationPortRanges",
] as const;

export function fromSdkRule(r: SdkSecurityRule): SecurityRule {
  const name = r.name ?? "";
  if (name === "" || typeof r.priority !== "number") {
    throw new AzureError("Invalid", `security rule ${JSON.stringify(name)} has no name or priority`, {
      code: "UnexpectedRuleShape",
    });
  }
  const rule: SecurityRule = {
    name,
    priority: r.priority,
    direction: pick(DIRECTIONS, r.direction, "direction", name),
    access: pick(ACCESSES, r.access, "access", name),
    protocol: pick(PROTOCOLS, r.protocol, "protocol", name),
  };
  for (const k of OPTIONAL_STRINGS) {
    const v = r[k];
    if (typeof v === "string") rule[k] = v;
  }
  for (const k of OPTIONAL_LISTS) {
    const v = r[k];
    // An empty list is what ARM returns for "not set"; the core treats absent and empty alike.
    if (Array.isArray(v) && v.length > 0) rule[k] = [...v];
  }
  return rule;
}

/** The writable part of a rule, in the SDK's shape. */
export function toSdkRule(r: SecurityRule): SdkSecurityRule {
  const out: SdkSecurityRule = {
    name: r.name,
    priority: r.priority,
    direction: r.direction,
    access: r.access,
    protocol: r.protocol,
  };
  if (r.description !== undefined) out.description = r.description;
  if (r.sourceAddressPrefix !== undefined) out.sourceAddressPrefix = r.sourceAddressPrefix;
  if (r.sourcePortRange !== undefined) out.sourcePortRange = r.sourcePortRange;
  if (r.destinationAddressPrefix !== undefined) out.destinationAddressPrefix = r.destinationAddressPrefix;
  if (r.destinationPortRange !== undefined) out.destinationPortRange = r.destinationPortRange;
  for (const k of OPTIONAL_LISTS) {
    const v = r[k];
    if (v !== undefined) out[k] = [...v];
  }
  return out;
}

export function fromSdkNsg(n: NetworkSecurityGroup): ObservedNsg {
  if (n.id === undefined || n.id === "") {
    throw new AzureError("Invalid", "network security group without an id in the ARM answer", {
      code: "UnexpectedNsgShape",
    });
  }
  const nsg: ObservedNsg = { id: n.id, securityRules: (n.securityRules ?? []).map(fromSdkRule) };
  if (n.etag !== undefined) nsg.etag = n.etag;
  if (n.location !== undefined) nsg.location = n.location;
  return nsg;
}

type Json = Record<string, unknown>;

function objectOr(v: unknown): Json {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function stringOr(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/**
 * An NSG in ARM's wire form (`{ id, etag, location, properties: { securityRules: [{ name, etag,
 * properties }] } }`), read exactly as fromSdkNsg reads the SDK's model of it: the model is the
 * wire document with each `properties` lifted up a level, and fromSdkNsg reads only these fields.
 */
export function fromArmNsg(doc: unknown): ObservedNsg {
  const d = objectOr(doc);
  const props = objectOr(d["properties"]);
  const rules = Array.isArray(props["securityRules"]) ? (props["securityRules"] as unknown[]) : [];
  const securityRules = rules.map((r): SdkSecurityRule => {
    const rule = objectOr(r);
    const name = stringOr(rule["name"]);
    const etag = stringOr(rule["etag"]);
    return {
      ...objectOr(rule["properties"]),
      ...(name === undefined ? {} : { name }),
      ...(etag === undefined ? {} : { etag }),
    };
  });
  const id = stringOr(d["id"]);
  const etag = stringOr(d["etag"]);
  const location = stringOr(d["location"]);
  const model: NetworkSecurityGroup = {
    securityRules,
    ...(id === undefined ? {} : { id }),
    ...(etag === undefined ? {} : { etag }),
    ...(location === undefined ? {} : { location }),
  };
  return fromSdkNsg(model);
}
