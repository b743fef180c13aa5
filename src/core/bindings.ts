// Normalizes the policy bindings of one NSG and indexes grants by the allow rule that carries them.
// Per-string work (prefix parsing, name slugs, port tables) is cached in Maps that live for one call
// only: bindings of one policy share their ports and, often, their destinations. A grant finds its
// binding by the policy key and target id strings as written (Map lookups by strings that live
// across plans hash nothing anew), or else by the number its key text hashes to, for a target id
// spelled in another letter case: the key text (policy key + lower-cased ARM id) is never built.
import type { PolicyPort, PriorityRange, Protocol } from "../api/types.ts";
import { normalizePrefix } from "./cidr.ts";
import {
  allowDescriptionTail,
  bindingHashOfLower,
  hashLow32,
  descriptionHeads,
  policySlug,
  rulePrefixWithHash,
  shortTargetName,
} from "./names.ts";
import type { DescriptionHeads } from "./names.ts";
import { instanceRulePrefix } from "./nsg.ts";
import { bindingMemo, forInstance, keptDestinations, keptProtocols } from "./plan-memo.ts";
import type { BindingMemo, PlanMemo } from "./plan-memo.ts";
import { compareBindingKeys } from "./binding-order.ts";
import type { BindingRef } from "./rules.ts";
import type { Grant, PolicyBinding } from "./types.ts";
import { sortStrings } from "./sorting.ts";

export interface NormBinding extends BindingRef {
  /** targetId.toLowerCase(): ARM ids compare case-insensitively. */
  lowerTargetId: string;
  /** hashLow32 of the binding's hash (bindingHashOfLower): files and finds its living rules. */
  hash: number;
  band: PriorityRange;
  /** Ports per protocol, protocols and ports sorted. */
  protocols: [Protocol, number[]][];
  /** The binding's grants by slotKey(protocol, port); filled by indexGrants. */
  grants: Map<number, Grant[]> | undefined;
  /** Its living managed rules as (rule key, index into managedRules) pairs; filled by the plan context. */
  living: number[] | undefined;
  /** rulePrefix.toLowerCase() when kept by the planner's memo, else undefined (folded when needed). */
  foldedPrefix: string | undefined;
}

/** A number naming (protocol, port), cheaper to hash than a string. */
export function slotKey(protocol: Protocol, port: number): number {
  // Compared, not looked up in a table: a keyed load by a varying string is slower. Any other text
  // (bad input) gives NaN, which Maps still match to itself.
  const text: string = protocol;
  const index = text === "TCP" ? 0 : text === "UDP" ? 1 : text === "Any" ? 2 : Number.NaN;
  return port * 4 + index;
}

/** The bindings of one (policy, target): the first one names the band, all add destinations and ports. */
interface Group {
  policyKey: string;
  lowerTargetId: string;
  /** bindingHashOfLower(policyKey, lowerTargetId): 16 hex digits. */
  hash: string;
  first: PolicyBinding;
  more: PolicyBinding[] | undefined;
  /** The normalized binding, undefined when the group protects no destination. */
  norm: NormBinding | undefined;
  /** The planner's memo of `first`, when the plan has a PlanMemo. */
  memo: BindingMemo | undefined;
}

/** The normalized bindings of one NSG and the means to find the one a grant belongs to. */
export interface BindingTable {
  /** One per (policy, target) with destinations, sorted by compareBindingKeys. */
  list: NormBinding[];
  /** Groups by policy key, then by every spelling of the target id seen. */
  exact: Map<string, Map<string, Group>>;
  /** Groups by hash. */
  byHash: Map<string, Group[]>;
}

/** Per-call caches: parsed prefixes by text, slugs by policy key, port tables by ports list; and the
 * plan's instance: its id, rule-name prefix and description heads. */
interface Caches {
  prefixes: Map<string, string | undefined>;
  slugs: Map<string, string>;
  protocols: Map<PolicyPort[], [Protocol, number[]][]>;
  instance: string;
  ownPrefix: string;
  heads: DescriptionHeads;
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
    slug = policySlug(policyKey, caches.instance);
    caches.slugs.set(policyKey, slug);
  }
  return slug;
}

/** The group of (policyKey, targetId) spelled exactly so, or undefined. */
function exactGroup(table: BindingTable, policyKey: string, targetId: string): Group | undefined {
  return table.exact.get(policyKey)?.get(targetId);
}

function remember(table: BindingTable, policyKey: string, targetId: string, g: Group): void {
  let byTarget = table.exact.get(policyKey);
  if (byTarget === undefined) {
    byTarget = new Map();
    table.exact.set(policyKey, byTarget);
  }
  byTarget.set(targetId, g);
}

/** The group of (policyKey, lower-cased target id) of this hash, or undefined. */
function hashedGroup(table: BindingTable, policyKey: string, lower: string, hash: string): Group | undefined {
  for (const g of table.byHash.get(hash) ?? []) {
    if (g.policyKey === policyKey && g.lowerTargetId === lower) return g;
  }
  return undefined;
}

/** The group of (policyKey, targetId) in any letter case of the id, remembering this spelling. */
function findGroup(table: BindingTable, policyKey: string, targetId: string): Group | undefined {
  const found = exactGroup(table, policyKey, targetId);
  if (found !== undefined) return found;
  const lower = targetId.toLowerCase();
  const g = hashedGroup(table, policyKey, lower, bindingHashOfLower(policyKey, lower));
  if (g !== undefined) remember(table, policyKey, targetId, g);
  return g;
}

function addGroup(table: BindingTable, b: PolicyBinding, groups: Group[], memo: PlanMemo | undefined): void {
  let g = exactGroup(table, b.policyKey, b.targetId);
  if (g === undefined) {
    const m = memo === undefined ? undefined : bindingMemo(memo, b);
    const lower = m === undefined ? b.targetId.toLowerCase() : m.lowerTargetId;
    const hash = m === undefined ? bindingHashOfLower(b.policyKey, lower) : m.hash;
    g = hashedGroup(table, b.policyKey, lower, hash);
    if (g === undefined) {
      g = {
        policyKey: b.policyKey,
        lowerTargetId: lower,
        hash,
        first: b,
        more: undefined,
        norm: undefined,
        memo: m,
      };
      groups.push(g);
      remember(table, b.policyKey, b.targetId, g);
      const bucket = table.byHash.get(hash);
      if (bucket === undefined) table.byHash.set(hash, [g]);
      else bucket.push(g);
      return;
    }
    remember(table, b.policyKey, b.targetId, g);
  }
  (g.more ??= []).push(b);
}

function normalize(caches: Caches, g: Group): NormBinding | undefined {
  // A lone binding's destinations and ports are kept by the planner's memo, when there is one.
  const m = g.memo;
  const destinations =
    m === undefined || g.more !== undefined
      ? destinationsOf(caches, g)
      : keptDestinations(m, g.first, () => destinationsOf(caches, g));
  if (destinations.length === 0) return undefined; // nothing to protect or open here
  if (m !== undefined) return fromMemo(caches, g, m, destinations);
  const { policyKey, targetId } = g.first;
  const targetName = shortTargetName(targetId);
  return {
    lowerTargetId: g.lowerTargetId,
    hash: hashLow32(g.hash),
    policyKey,
    targetId,
    band: g.first.priorityRange,
    destinations,
    protocols: protocolsOf(caches, g),
    rulePrefix: rulePrefixWithHash(slugOf(caches, policyKey), g.hash, caches.ownPrefix),
    targetName,
    allowTail: allowDescriptionTail(policyKey, targetName),
    allowHead: caches.heads.allow,
    denyHead: caches.heads.deny,
    grants: undefined,
    living: undefined,
    foldedPrefix: undefined,
    memo: undefined,
  };
}

/** normalize from the planner's memo of the group's first binding: the same fields, kept text. */
function fromMemo(caches: Caches, g: Group, m: BindingMemo, destinations: string[]): NormBinding {
  forInstance(m, caches.instance, caches.heads.allow, (x) =>
    rulePrefixWithHash(slugOf(caches, x.policyKey), x.hash, caches.ownPrefix),
  );
  return {
    lowerTargetId: m.lowerTargetId,
    hash: m.hashLow,
    policyKey: m.policyKey,
    targetId: m.targetId,
    band: g.first.priorityRange,
    destinations,
    protocols:
      g.more === undefined ? keptProtocols(m, g.first, () => protocolsOf(caches, g)) : protocolsOf(caches, g),
    rulePrefix: m.rulePrefix,
    targetName: m.targetName,
    allowTail: m.allowTail,
    allowHead: caches.heads.allow,
    denyHead: caches.heads.deny,
    grants: undefined,
    living: undefined,
    foldedPrefix: m.foldedPrefix,
    memo: m,
  };
}

/** Sorts by compareBindingKeys; already sorted input (the usual case) is only checked. */
function sortByKey(list: NormBinding[]): NormBinding[] {
  for (let i = 1; i < list.length; i++) {
    const a = list[i - 1];
    const b = list[i];
    if (a !== undefined && b !== undefined && compareBindingKeys(a, b) >= 0) {
      return list.sort(compareBindingKeys);
    }
  }
  return list;
}

/**
 * One binding per (policy, target): duplicates merge their destinations and ports. Rules are named
 * for `instance` ("" = the default instance; an invalid id throws).
 */
export function normalizeBindings(bindings: PolicyBinding[], instance = "", memo?: PlanMemo): BindingTable {
  const caches: Caches = {
    prefixes: new Map(),
    slugs: new Map(),
    protocols: new Map(),
    instance,
    ownPrefix: instanceRulePrefix(instance),
    heads: descriptionHeads(instance),
  };
  const table: BindingTable = { list: [], exact: new Map(), byHash: new Map() };
  const groups: Group[] = [];
  for (const b of bindings) addGroup(table, b, groups, memo);
  const list: NormBinding[] = [];
  for (const g of groups) {
    g.norm = normalize(caches, g);
    if (g.norm !== undefined) list.push(g.norm);
  }
  table.list = sortByKey(list);
  return table;
}

/** Files each grant under its binding, by slotKey(protocol, port); grants of no binding are ignored. */
export function indexGrants(table: BindingTable, grants: Grant[]): void {
  // Grants arrive grouped by (policy, target), often by port too, and share their key strings: the
  // binding of the last pair is reused, and a run of grants of one slot is filed as one exactly
  // sized slice (pushing them one by one grows every list to 17 entries).
  let lastPolicy: string | undefined;
  let lastTarget: string | undefined;
  let b: NormBinding | undefined;
  let run: NormBinding | undefined;
  let runKey = Number.NaN;
  let runStart = 0;
  for (let i = 0; i < grants.length; i++) {
    const g = grants[i];
    if (g === undefined) continue;
    if (g.policyKey !== lastPolicy || g.targetId !== lastTarget) {
      b = findGroup(table, g.policyKey, g.targetId)?.norm;
      lastPolicy = g.policyKey;
      lastTarget = g.targetId;
    }
    const sk = b === undefined ? Number.NaN : slotKey(g.protocol, g.port);
    if (run !== undefined && b === run && sk === runKey) continue;
    if (run !== undefined) file(run, runKey, grants, runStart, i);
    run = b;
    runKey = sk;
    runStart = i;
  }
  if (run !== undefined) file(run, runKey, grants, runStart, grants.length);
}

/** Files grants[from..to), all of binding `b` and slot `sk`, after the ones filed there before. */
function file(b: NormBinding, sk: number, grants: Grant[], from: number, to: number): void {
  const slots = (b.grants ??= new Map<number, Grant[]>());
  const list = slots.get(sk);
  if (list === undefined) slots.set(sk, grants.slice(from, to));
  else for (let i = from; i < to; i++) list.push(grants[i] as Grant);
}
