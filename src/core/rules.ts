// Building managed rules and comparing rules on the fields that matter to Azure's behaviour.
import type { Protocol } from "../api/types.ts";
import { keyOf } from "./allow-descriptions.ts";
import type { AllowDescriptions } from "./allow-descriptions.ts";
import { denyDescriptionFrom, denyNameFrom, ruleProtocol } from "./names.ts";
import type { SecurityRule } from "./nsg.ts";
import { allowText, denyText } from "./plan-memo.ts";
import type { BindingMemo } from "./plan-memo.ts";
import { indexOfString, sortStrings } from "./sorting.ts";

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

/** Entries of a singular+plural field, counted as `both` would list them, without building the list. */
function countOf(one: string | undefined, many: string[] | undefined): number {
  return (many === undefined ? 0 : many.length) + (one !== undefined && one !== "" ? 1 : 0);
}

/** Entry i of the list `both(one, many)` would build. */
function entryOf(one: string | undefined, many: string[] | undefined, i: number): string | undefined {
  return many !== undefined && i < many.length ? many[i] : one;
}

/** How many address prefixes the rule spends of the NSG's 4,000. */
export function rulePrefixCount(rule: SecurityRule): number {
  return (
    countOf(rule.sourceAddressPrefix, rule.sourceAddressPrefixes) +
    countOf(rule.destinationAddressPrefix, rule.destinationAddressPrefixes)
  );
}

function sortedText(values: string[]): string {
  return [...values].sort().join(",");
}

function isBlank(one: string | undefined): boolean {
  return one === undefined || one === "";
}

/** Same entries in the same order. */
function sameList(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Same entries in the singular+plural fields of two rules: equal in order (checked without building
 * lists, the common case of a converged NSG), else equal as sorted text.
 */
function sameField(
  one1: string | undefined,
  many1: string[] | undefined,
  one2: string | undefined,
  many2: string[] | undefined,
): boolean {
  // The shapes the planner writes: singular on both sides, or plural on both without a singular.
  if (many1 === undefined && many2 === undefined) return (one1 ?? "") === (one2 ?? "");
  if (
    many1 !== undefined &&
    many2 !== undefined &&
    isBlank(one1) &&
    isBlank(one2) &&
    sameList(many1, many2)
  ) {
    return true;
  }
  const n = countOf(one1, many1);
  if (n !== countOf(one2, many2)) return false;
  let inOrder = true;
  for (let i = 0; i < n && inOrder; i++) inOrder = entryOf(one1, many1, i) === entryOf(one2, many2, i);
  return inOrder || sortedText(both(one1, many1)) === sortedText(both(one2, many2));
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
  /** allowDescriptionTail(policyKey, targetName) */
  allowTail: string;
  /** descriptionHeads(instance): how the plan's instance begins its descriptions. */
  allowHead: string;
  denyHead: string;
  /** The planner's memo of this binding (plan-memo.ts), whose descriptions are kept across plans. */
  memo?: BindingMemo | undefined;
}

function denyDescription(b: BindingRef, protocol: Protocol): string {
  const build = (): string => denyDescriptionFrom(b.policyKey, b.targetName, protocol, b.denyHead);
  return b.memo === undefined ? build() : denyText(b.memo, protocol, build);
}

function allowDescription(
  b: BindingRef,
  protocol: Protocol,
  port: number,
  sources: number,
  until: string,
  describe: AllowDescriptions,
): string {
  const key = b.memo === undefined ? -1 : keyOf(protocol, port, sources);
  if (b.memo === undefined || key < 0)
    return describe(b.allowTail, protocol, port, sources, b.allowHead, until);
  return allowText(b.memo, key, protocol, port, sources, until, describe);
}

// The builders below write each rule as one object literal with its fields always in the same order
// (no spreads): the planner builds a thousand of them per plan, and uniform shapes keep that cheap.
// `living` is the observed rule of the same name, if any: its name is taken over instead of built
// (equal text, compared by identity in the diff).

export function buildDenyRule(
  b: BindingRef,
  protocol: Protocol,
  ports: number[],
  priority: number,
  living: SecurityRule | undefined,
): SecurityRule {
  const name = living === undefined ? denyNameFrom(b.rulePrefix, protocol) : living.name;
  const description = denyDescription(b, protocol);
  const destinationAddressPrefixes = b.destinations.slice();
  if (ports.length === 1) {
    return {
      name,
      priority,
      direction: "Inbound",
      access: "Deny",
      protocol: ruleProtocol(protocol),
      description,
      sourceAddressPrefix: "*",
      sourcePortRange: "*",
      destinationAddressPrefixes,
      destinationPortRange: String(ports[0]),
    };
  }
  return {
    name,
    priority,
    direction: "Inbound",
    access: "Deny",
    protocol: ruleProtocol(protocol),
    description,
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefixes,
    destinationPortRanges: ports.map(String),
  };
}

/**
 * The singular source of an allow rule, or undefined when it lists prefixes. Azure accepts "*" and
 * service tags only in the singular field and never mixed with prefixes, so a "*" grant makes the
 * rule "*" (it covers every other source).
 */
function singularSource(sources: string[]): string | undefined {
  if (indexOfString(sources, "*") >= 0 || indexOfString(sources, "Any") >= 0) return "*";
  if (sources.length === 1 && sources[0] === "Internet") return "Internet";
  return undefined;
}

/**
 * The allow rule `name` (allowNameFrom of the binding) for `sources`, which it takes over and sorts;
 * `until` is the expiry its description states (expiryText, "" for none), written by `describe`
 * (the plan's allowDescriptions).
 */
export function buildAllowRule(
  b: BindingRef,
  protocol: Protocol,
  port: number,
  name: string,
  sources: string[],
  priority: number,
  until: string,
  describe: AllowDescriptions,
): SecurityRule {
  const single = singularSource(sources);
  const count = single === undefined ? sources.length : 1;
  const description = allowDescription(b, protocol, port, count, until, describe);
  const destinationAddressPrefixes = b.destinations.slice();
  if (single !== undefined) {
    return {
      name,
      priority,
      direction: "Inbound",
      access: "Allow",
      protocol: ruleProtocol(protocol),
      description,
      sourceAddressPrefix: single,
      sourcePortRange: "*",
      destinationAddressPrefixes,
      destinationPortRange: String(port),
    };
  }
  return {
    name,
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: ruleProtocol(protocol),
    description,
    sourceAddressPrefixes: sortStrings(sources),
    sourcePortRange: "*",
    destinationAddressPrefixes,
    destinationPortRange: String(port),
  };
}
