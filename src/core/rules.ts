// Building managed rules and comparing rules on the fields that matter to Azure's behaviour.
import type { Protocol } from "../api/types.ts";
import {
  allowDescriptionFrom,
  allowNameFrom,
  denyDescriptionFrom,
  denyNameFrom,
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

function sameList(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  let inOrder = true;
  for (let i = 0; i < a.length && inOrder; i++) inOrder = a[i] === b[i];
  return inOrder || sortedText(a) === sortedText(b);
}

function sameField(
  one1: string | undefined,
  many1: string[] | undefined,
  one2: string | undefined,
  many2: string[] | undefined,
): boolean {
  if (
    one1 === one2 &&
    (many1 === undefined || many1.length === 0) &&
    (many2 === undefined || many2.length === 0)
  ) {
    return true;
  }
  return sameList(both(one1, many1), both(one2, many2));
}

/** ruleSignature(a) === ruleSignature(b), without building strings on the common path. */
export function sameRule(a: SecurityRule, b: SecurityRule): boolean {
  return (
    a.name === b.name &&
    a.priority === b.priority &&
    a.direction === b.direction &&
    a.access === b.access &&
    a.protocol === b.protocol &&
    (a.description ?? "") === (b.description ?? "") &&
    sameField(
      a.sourceAddressPrefix,
      a.sourceAddressPrefixes,
      b.sourceAddressPrefix,
      b.sourceAddressPrefixes,
    ) &&
    sameField(a.sourcePortRange, a.sourcePortRanges, b.sourcePortRange, b.sourcePortRanges) &&
    sameField(
      a.destinationAddressPrefix,
      a.destinationAddressPrefixes,
      b.destinationAddressPrefix,
      b.destinationAddressPrefixes,
    ) &&
    sameField(
      a.destinationPortRange,
      a.destinationPortRanges,
      b.destinationPortRange,
      b.destinationPortRanges,
    )
  );
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
  /** bindingRulePrefix(policyKey, targetId) */
  rulePrefix: string;
  /** shortTargetName(targetId) */
  targetName: string;
}

export function buildDenyRule(
  b: BindingRef,
  protocol: Protocol,
  ports: number[],
  priority: number,
): SecurityRule {
  const portTexts = ports.map(String);
  return {
    name: denyNameFrom(b.rulePrefix, protocol),
    priority,
    direction: "Inbound",
    access: "Deny",
    protocol: ruleProtocol(protocol),
    description: denyDescriptionFrom(b.policyKey, b.targetName, protocol),
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
    name: allowNameFrom(b.rulePrefix, protocol, port),
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: ruleProtocol(protocol),
    description: allowDescriptionFrom(b.policyKey, b.targetName, protocol, port, count),
    ...fields,
    sourcePortRange: "*",
    destinationAddressPrefixes: [...b.destinations],
    destinationPortRange: String(port),
  };
}
