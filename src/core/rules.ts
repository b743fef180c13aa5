// Building managed rules and comparing rules on the fields that matter to Azure's behaviour.
import type { Protocol } from "../api/types.ts";
import {
  allowRuleDescription,
  allowRuleName,
  denyRuleDescription,
  denyRuleName,
  ruleProtocol,
} from "./names.ts";
import type { SecurityRule } from "./nsg.ts";

/** The rule's source prefixes whether written singular or plural. */
export function ruleSources(rule: SecurityRule): string[] {
  return both(rule.sourceAddressPrefix, rule.sourceAddressPrefixes);
}

export function ruleDestinations(rule: SecurityRule): string[] {
  return both(rule.destinationAddressPrefix, rule.destinationAddressPrefixes);
}

export function ruleDestinationPorts(rule: SecurityRule): string[] {
  return both(rule.destinationPortRange, rule.destinationPortRanges);
}

function both(one: string | undefined, many: string[] | undefined): string[] {
  const out = many === undefined ? [] : [...many];
  if (one !== undefined && one !== "") out.push(one);
  return out;
}

/** How many address prefixes the rule spends of the NSG's 4,000. */
export function rulePrefixCount(rule: SecurityRule): number {
  return ruleSources(rule).length + ruleDestinations(rule).length;
}

function sortedText(values: string[]): string {
  return [...values].sort().join(",");
}

/** Everything Azure acts on (plus name and description); singular/plural and order do not matter. */
export function ruleSignature(rule: SecurityRule): string {
  return [
    rule.name,
    rule.priority,
    rule.direction,
    rule.access,
    rule.protocol,
    rule.description ?? "",
    sortedText(ruleSources(rule)),
    sortedText(both(rule.sourcePortRange, rule.sourcePortRanges)),
    sortedText(ruleDestinations(rule)),
    sortedText(ruleDestinationPorts(rule)),
  ].join("|");
}

export interface BindingRef {
  policyKey: string;
  targetId: string;
  destinations: string[];
}

export function buildDenyRule(
  b: BindingRef,
  protocol: Protocol,
  ports: number[],
  priority: number,
): SecurityRule {
  const portTexts = ports.map(String);
  return {
    name: denyRuleName(b.policyKey, b.targetId, protocol),
    priority,
    direction: "Inbound",
    access: "Deny",
    protocol: ruleProtocol(protocol),
    description: denyRuleDescription(b.policyKey, b.targetId, protocol),
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefixes: [...b.destinations],
    ...(portTexts.length === 1
      ? { destinationPortRange: portTexts[0] }
      : { destinationPortRanges: portTexts }),
  };
}

/**
 * Sources of an allow rule. Azure accepts "*" and service tags only in the singular field and never
 * mixed with prefixes, so a "*" grant makes the rule "*" (it covers every other source).
 */
function sourceFields(
  sources: string[],
): Pick<SecurityRule, "sourceAddressPrefix" | "sourceAddressPrefixes"> {
  if (sources.includes("*") || sources.includes("Any")) return { sourceAddressPrefix: "*" };
  if (sources.length === 1 && sources[0] === "Internet") return { sourceAddressPrefix: "Internet" };
  return { sourceAddressPrefixes: [...sources].sort() };
}

export function buildAllowRule(
  b: BindingRef,
  protocol: Protocol,
  port: number,
  sources: string[],
  priority: number,
): SecurityRule {
  const fields = sourceFields(sources);
  const count = fields.sourceAddressPrefixes?.length ?? 1;
  return {
    name: allowRuleName(b.policyKey, b.targetId, protocol, port),
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: ruleProtocol(protocol),
    description: allowRuleDescription(b.policyKey, b.targetId, protocol, port, count),
    ...fields,
    sourcePortRange: "*",
    destinationAddressPrefixes: [...b.destinations],
    destinationPortRange: String(port),
  };
}
