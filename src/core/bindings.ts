// Normalizes the policy bindings of one NSG and indexes grants by the allow rule that carries them.
// Per-string work (prefix parsing, name slugs, port tables) is cached in Maps that live for one call
// only: bindings of one policy share their ports and, often, their destinations.
import type { PolicyPort, PriorityRange, Protocol } from "../api/types.ts";
import { normalizePrefix } from "./cidr.ts";
import {
  allowDescriptionTail,
  bindingHashText,
  policySlug,
  rulePrefixFrom,
  shortTargetName,
} from "./names.ts";
import type { BindingRef } from "./rules.ts";
import type { Grant, PolicyBinding } from "./types.ts";
import { sortStrings } from "./sorting.ts";

export interface NormBinding extends BindingRef {
  key: string;
  band: PriorityRange;
  /** Ports per protocol, protocols and ports sorted. */
  protocols: [Protocol, number[]][];
}

/** Identifies a (policy, target) pair; ARM ids compare case-insensitively. */
export function bindingKey(policyKey: string, targetId: string): string {
  return bindingHashText(policyKey, targetId);
}

const PROTOCOL_INDEX: Record<Protocol, number> = { TCP: 0, UDP: 1, Any: 2 };

/** A number naming (protocol, port), cheaper to hash than a string. */
export function slotKey(protocol: Protocol, port: number): number {
  return port * 4 + PROTOCOL_INDEX[protocol];
}

/** The bindings of one (policy, target): the first one names the band, all add destinations and ports. */
interface Group {
  key: string;
  first: PolicyBinding;
  more: PolicyBinding[] | undefined;
}

/** Per-call caches: parsed prefixes by text, slugs by policy key, port tables by ports list. */
interface Caches {
  prefixes: Map<string, string | undefined>;
  slugs: Map<string, string>;
  protocols: Map<PolicyPort[], [Protocol, number[]][]>;
}

function canonical(caches: Caches, text: string): string | undefined {
  if (caches.prefixes.has(text)) return caches.prefixes.get(text);
  const n = normalizePrefix(text);
  caches.prefixes.set(text, n);
  return n;
}

/** Distinct canonical destinations of the group, sorted. */
function destinationsOf(caches: Caches, g: Group): string[] {
  const only = g.first.destinationPrefixes;
  if (g.more === undefined && only.length === 1) {
    const n = canonical(caches, only[0] ?? "");
    return n === undefined ? [] : [n];
  }
  const dests = new Set<string>();
  for (const b of g.more === undefined ? [g.first] : [g.first, ...g.more]) {
    for (const d of b.destinationPrefixes) {
      const n = canonical(caches, d);
      if (n !== undefined) dests.add(n);
    }
  }
  return sortStrings([...dests]);
}

function protocolTable(lists: PolicyPort[][]): [Protocol, number[]][] {
  const ports = new Map<Protocol, Set<number>>();
  for (const list of lists) {
    for (const p of list) {
      const set = ports.get(p.protocol) ?? new Set<number>();
      set.add(p.number);
      ports.set(p.protocol, set);
    }
  }
  return [...ports.entries()]
    .map(([protocol, set]): [Protocol, number[]] => [protocol, [...set].sort((x, y) => x - y)])
    .sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

/** The group's port table; a lone binding's comes from the cache (tables are never mutated). */
function protocolsOf(caches: Caches, g: Group): [Protocol, number[]][] {
  if (g.more !== undefined) return protocolTable([g.first.ports, ...g.more.map((b) => b.ports)]);
  let table = caches.protocols.get(g.first.ports);
  if (table === undefined) {
    table = protocolTable([g.first.ports]);
    caches.protocols.set(g.first.ports, table);
  }
  return table;
}

function slugOf(caches: Caches, policyKey: string): string {
  let slug = caches.slugs.get(policyKey);
  if (slug === undefined) {
    slug = policySlug(policyKey);
    caches.slugs.set(policyKey, slug);
  }
  return slug;
}

function groupByKey(bindings: PolicyBinding[]): Map<string, Group> {
  const byKey = new Map<string, Group>();
  for (const b of bindings) {
    const key = bindingKey(b.policyKey, b.targetId);
    const g = byKey.get(key);
    if (g === undefined) byKey.set(key, { key, first: b, more: undefined });
    else (g.more ??= []).push(b);
  }
  return byKey;
}

/** One binding per (policy, target): duplicates merge their destinations and ports. Sorted by key. */
export function normalizeBindings(bindings: PolicyBinding[]): NormBinding[] {
  const caches: Caches = { prefixes: new Map(), slugs: new Map(), protocols: new Map() };
  const out: NormBinding[] = [];
  for (const g of groupByKey(bindings).values()) {
    const destinations = destinationsOf(caches, g);
    if (destinations.length === 0) continue; // nothing to protect or open here
    const { policyKey, targetId } = g.first;
    const targetName = shortTargetName(targetId);
    out.push({
      key: g.key,
      policyKey,
      targetId,
      band: g.first.priorityRange,
      destinations,
      protocols: protocolsOf(caches, g),
      rulePrefix: rulePrefixFrom(slugOf(caches, policyKey), g.key),
      targetName,
      allowTail: allowDescriptionTail(policyKey, targetName),
    });
  }
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

/** Grants by binding key, then by slotKey(protocol, port). */
export function indexGrants(grants: Grant[]): Map<string, Map<number, Grant[]>> {
  const index = new Map<string, Map<number, Grant[]>>();
  // Grants arrive grouped by (policy, target) and share their key strings: the slots of the last
  // pair are reused, and each binding key is computed once per pair.
  const keys = new Map<string, Map<string, Map<number, Grant[]>>>();
  let lastPolicy: string | undefined;
  let lastTarget: string | undefined;
  let slots: Map<number, Grant[]> | undefined;
  for (const g of grants) {
    if (slots === undefined || g.policyKey !== lastPolicy || g.targetId !== lastTarget) {
      slots = slotsOf(index, keys, g);
      lastPolicy = g.policyKey;
      lastTarget = g.targetId;
    }
    const sk = slotKey(g.protocol, g.port);
    const list = slots.get(sk);
    if (list === undefined) slots.set(sk, [g]);
    else list.push(g);
  }
  return index;
}

function slotsOf(
  index: Map<string, Map<number, Grant[]>>,
  keys: Map<string, Map<string, Map<number, Grant[]>>>,
  g: Grant,
): Map<number, Grant[]> {
  let byTarget = keys.get(g.policyKey);
  if (byTarget === undefined) {
    byTarget = new Map();
    keys.set(g.policyKey, byTarget);
  }
  let slots = byTarget.get(g.targetId);
  if (slots === undefined) {
    const bk = bindingKey(g.policyKey, g.targetId);
    slots = index.get(bk);
    if (slots === undefined) {
      slots = new Map();
      index.set(bk, slots);
    }
    byTarget.set(g.targetId, slots);
  }
  return slots;
}
