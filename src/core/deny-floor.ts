// The priority an allow must stay below. Its own baseline deny is one bound; any other deny of the
// plan that matches the allow's traffic (an overlapping destination, its protocol, its port) at a
// lower priority number is another: Azure applies the first matching rule, so an allow behind it
// would open nothing while its grants showed Active. Bands normally keep every allow below every
// deny (allows from the low end, denies from the high end, overlapping bands are conflicts), but a
// living deny keeps its priority wherever it sits, two targets of one NSG may share an address, and
// two policies may cover one port of one VM. Denies are looked up by canonical host destination
// (the planner's own text), so a plan pays one map lookup per allow in the common case.
import type { Protocol } from "../api/types.ts";
import { prefixesOverlap } from "./cidr.ts";
import type { SecurityRule } from "./nsg.ts";
import { ruleDestinationPorts, ruleDestinations } from "./rules.ts";

interface DenyEntry {
  rule: SecurityRule;
  /** The rule's protocol as the binding spells it ("Any" for "*"). */
  protocol: Protocol;
  /** Destination port ranges as [low, high] pairs; "*" is [0, 65535]. */
  ports: number[];
  /** Destinations that are not a single host (wider prefixes, tags, wildcards). */
  wide: string[];
  hosts: string[];
}

export interface DenyFloorIndex {
  /** By canonical host destination (x.x.x.x/32 or an IPv6 /128). */
  byHost: Map<string, DenyEntry[]>;
  /** Denies with at least one destination wider than a host: checked against every allow. */
  wide: DenyEntry[];
  all: DenyEntry[];
}

function isHost(prefix: string): boolean {
  return prefix.endsWith("/32") || prefix.endsWith("/128");
}

function portRanges(rule: SecurityRule): number[] {
  const out: number[] = [];
  for (const r of ruleDestinationPorts(rule)) {
    if (r === "*") {
      out.push(0, 65535);
      continue;
    }
    const dash = r.indexOf("-");
    const lo = Number(dash < 0 ? r : r.slice(0, dash));
    const hi = dash < 0 ? lo : Number(r.slice(dash + 1));
    out.push(lo, hi);
  }
  return out;
}

const PROTOCOLS: Record<string, Protocol> = { tcp: "TCP", udp: "UDP" };

export function newDenyFloorIndex(): DenyFloorIndex {
  return { byHost: new Map(), wide: [], all: [] };
}

function addEntry(index: DenyFloorIndex, entry: DenyEntry, destinations: string[]): void {
  for (const d of destinations) (isHost(d) ? entry.hosts : entry.wide).push(d);
  index.all.push(entry);
  if (entry.wide.length > 0) index.wide.push(entry);
  for (const h of entry.hosts) {
    const list = index.byHost.get(h);
    if (list === undefined) index.byHost.set(h, [entry]);
    else list.push(entry);
  }
}

/** Adds a deny of the plan, read from its fields. */
export function addDeny(index: DenyFloorIndex, rule: SecurityRule): void {
  const protocol = PROTOCOLS[rule.protocol.toLowerCase()] ?? "Any";
  addEntry(index, { rule, protocol, ports: portRanges(rule), wide: [], hosts: [] }, ruleDestinations(rule));
}

/** True for the ports whose text (String(port)) reads back as the port itself and no range. */
function plainPorts(ports: number[]): boolean {
  for (const p of ports) if (!Number.isInteger(p) || p < 0 || p > 65535) return false;
  return true;
}

/**
 * Adds a baseline deny from what it was built of (buildDenyRule(b, protocol, ports, ...) with
 * b.destinations as `destinations`) instead of reading its text back: the same entry as addDeny's
 * for ports 0..65535 (a converged plan built a hundred port lists only to parse them again here).
 * Other port values are read from the rule, as addDeny reads them.
 */
export function addBaselineDeny(
  index: DenyFloorIndex,
  rule: SecurityRule,
  protocol: Protocol,
  ports: number[],
  destinations: string[],
): void {
  if (!plainPorts(ports)) {
    addDeny(index, rule);
    return;
  }
  const ranges: number[] = [];
  for (const p of ports) {
    const read = p === 0 ? 0 : p; // String(-0) is "0"
    ranges.push(read, read);
  }
  // As the rule states it: TCP and UDP as such, anything else "*".
  const as: Protocol = protocol === "TCP" || protocol === "UDP" ? protocol : "Any";
  addEntry(index, { rule, protocol: as, ports: ranges, wide: [], hosts: [] }, destinations);
}

/** Indexes the plan's denies (placed baseline denies and kept legacy ones). */
export function denyFloorIndex(denies: Iterable<SecurityRule>): DenyFloorIndex {
  const index = newDenyFloorIndex();
  for (const rule of denies) addDeny(index, rule);
  return index;
}

function coversPort(e: DenyEntry, port: number): boolean {
  for (let i = 0; i < e.ports.length; i += 2) {
    if (port >= (e.ports[i] ?? 1) && port <= (e.ports[i + 1] ?? 0)) return true;
  }
  return false;
}

const PREFIX_TEXT = /^[0-9a-fA-F.:]+\/\d+$/;

/** A wildcard or service tag is taken to overlap everything: the safe reading for a deny. */
function overlaps(a: string, b: string): boolean {
  return a === b || !PREFIX_TEXT.test(a) || !PREFIX_TEXT.test(b) || prefixesOverlap(a, b);
}

function meetsDestinations(e: DenyEntry, destinations: string[]): boolean {
  for (const d of destinations) {
    for (const w of e.wide) if (overlaps(w, d)) return true;
    for (const h of e.hosts) if (overlaps(h, d)) return true;
  }
  return false;
}

/** The entry when it decides (protocol, port) and lies below `best`, else `best`. */
function lowerOf(
  best: SecurityRule | undefined,
  e: DenyEntry,
  protocol: Protocol,
  port: number,
  destinations: string[] | undefined,
): SecurityRule | undefined {
  if (best !== undefined && e.rule.priority >= best.priority) return best;
  if (e.protocol !== "Any" && protocol !== "Any" && e.protocol !== protocol) return best;
  if (!coversPort(e, port)) return best;
  return destinations === undefined || meetsDestinations(e, destinations) ? e.rule : best;
}

function allHosts(destinations: string[]): boolean {
  for (const d of destinations) if (!isHost(d)) return false;
  return true;
}

/**
 * The deny of the index with the lowest priority that decides traffic of an allow to `destinations`
 * on (protocol, port) before it could: the allow must take a lower number, or it opens nothing.
 */
export function denyFloor(
  index: DenyFloorIndex,
  destinations: string[],
  protocol: Protocol,
  port: number,
): SecurityRule | undefined {
  let best: SecurityRule | undefined;
  if (!allHosts(destinations)) {
    for (const e of index.all) best = lowerOf(best, e, protocol, port, destinations);
    return best;
  }
  // A host destination found under its own text needs no overlap test.
  for (const d of destinations) {
    const list = index.byHost.get(d);
    if (list !== undefined) for (const e of list) best = lowerOf(best, e, protocol, port, undefined);
  }
  for (const e of index.wide) best = lowerOf(best, e, protocol, port, destinations);
  return best;
}
