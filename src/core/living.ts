// The observed managed rules of one NSG, indexed by the binding and slot their names encode. A plan
// looks up the living rule of every deny and allow it may write; building each of those names and
// hashing it (a fresh string of ~60 characters every time) cost more than the rest of a converged
// plan. Names are instead read from their end once per plan: "<prefix><tcp|udp|any>-<port>" for
// allows, "<prefix>deny-<tcp|udp|any>" for denies, where the binding prefix ends "-<hash16>-". Rules
// are filed under that hash in a chained hash table of typed arrays (a Map per plan costs more); a
// binding takes the ones that start with its prefix. ARM names compare case-insensitively, so a
// rule's name is read in any letter case: a living rule renamed only in case is still the binding's
// (a PUT by the canonical name would update that same rule, and a DELETE of it remove the new one).
import type { Protocol } from "../api/types.ts";
import { slotKey } from "./bindings.ts";
import type { NormBinding } from "./bindings.ts";
import { allowNameFrom, denyNameFrom, HASH_HEX } from "./names.ts";
import type { SecurityRule } from "./nsg.ts";
import { UNPARSED_KEY } from "./rule-grammar.ts";
import type { NameParts } from "./rule-grammar.ts";

export interface LivingIndex {
  rules: SecurityRule[];
  /** Per rule: for the first rule of its name, the index of the last one (the one that counts, as
   * with a Map by name); -1 for the later ones. */
  lastOf: Int32Array;
  /** Per rule: its rule key (slotKey or denyKey), or UNPARSED. */
  keys: Int32Array;
  /** Per rule: the length of its binding prefix. */
  prefixLengths: Int32Array;
  /** Per rule: the hash in its name, as int32. */
  hashes: Int32Array;
  /** Per rule: the first rule of the same text before its tail (NameParts.heads), or undefined
   * when not read (each rule's name is then compared on its own). */
  nameHeads: Int32Array | undefined;
  /** First rule of each chain of first rules of parsed names, by hash & mask; -1 when empty. */
  heads: Int32Array;
  /** Per rule: the next rule in its chain, or -1. */
  next: Int32Array;
  mask: number;
  /** First rules of names that do not parse, by name. */
  others: Map<string, number>;
  /** Every rule by name (last one wins), built only for a port or protocol no parsed name carries. */
  byName: Map<string, number> | undefined;
}

const PROTOCOL_INDEX: Record<Protocol, number> = { TCP: 0, UDP: 1, Any: 2 };
/** The key of a rule whose name does not parse: no slotKey of a readable port, no denyKey. */
const UNPARSED = UNPARSED_KEY;
const DASH = 45;

/** The rule key of a baseline deny: below every slotKey of a valid port. */
export function denyKey(protocol: Protocol): number {
  return -1 - PROTOCOL_INDEX[protocol];
}

/** The protocol index of "tcp", "udp" or "any" (in any letter case) at `at`, else -1. */
function tokenAt(name: string, at: number): number {
  // `| 32` lower-cases a letter; the only other code units it maps onto these letters are the
  // letters' upper-case forms.
  const a = name.charCodeAt(at) | 32;
  const b = name.charCodeAt(at + 1) | 32;
  const c = name.charCodeAt(at + 2) | 32;
  if (a === 116 && b === 99 && c === 112) return 0;
  if (a === 117 && b === 100 && c === 112) return 1;
  if (a === 97 && b === 110 && c === 121) return 2;
  return -1;
}

/** Protocols whose tokens this index reads back (anything else is bad input, looked up by name). */
function readableProtocol(protocol: Protocol): boolean {
  const text: string = protocol;
  return text === "TCP" || text === "UDP" || text === "Any";
}

/** Ports whose allow names this index can read back: canonical decimal, at most 65535. */
function readablePort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

/** The value of the canonical decimal digits name[from..to), or -1. */
function portAt(name: string, from: number, to: number): number {
  if (to - from > 5 || to === from || (to - from > 1 && name.charCodeAt(from) === 48)) return -1;
  let port = 0;
  for (let i = from; i < to; i++) port = port * 10 + name.charCodeAt(i) - 48;
  return port <= 65535 ? port : -1;
}

/** True when "deny" (in any letter case) is at `at`. */
function denyAt(name: string, at: number): boolean {
  return (
    (name.charCodeAt(at) | 32) === 100 &&
    (name.charCodeAt(at + 1) | 32) === 101 &&
    (name.charCodeAt(at + 2) | 32) === 110 &&
    (name.charCodeAt(at + 3) | 32) === 121
  );
}

/** Parses the tail of a name into keys[i] and prefixLengths[i]; false when it is no built name. */
function parseTail(name: string, index: LivingIndex, i: number): boolean {
  const end = name.length;
  let start = end;
  while (start > 0 && start > end - 6) {
    const ch = name.charCodeAt(start - 1);
    if (ch < 48 || ch > 57) break;
    start--;
  }
  if (start < end) {
    // An allow: "<prefix><token>-<port>".
    const port = portAt(name, start, end);
    const token = start >= 5 ? tokenAt(name, start - 4) : -1;
    if (port < 0 || token < 0 || name.charCodeAt(start - 1) !== DASH) return false;
    index.keys[i] = port * 4 + token;
    index.prefixLengths[i] = start - 4;
    return true;
  }
  // A deny: "<prefix>deny-<token>".
  const token = end >= 9 ? tokenAt(name, end - 3) : -1;
  if (token < 0 || name.charCodeAt(end - 4) !== DASH || !denyAt(name, end - 8)) return false;
  index.keys[i] = -1 - token;
  index.prefixLengths[i] = end - 8;
  return true;
}

/**
 * The low 32 bits (hashLow32) of the hash a binding prefix of this length carries ("-<hash16>-" at
 * its end), or -1 (a legacy 8-digit hash among them: such rules match no binding and go as stale).
 */
function hashAt(name: string, prefixLength: number): number {
  const from = prefixLength - HASH_HEX - 1;
  if (from < 1 || name.charCodeAt(from - 1) !== DASH || name.charCodeAt(prefixLength - 1) !== DASH) {
    return -1;
  }
  // Every digit must be hex, but only the last 8 count: they are shifted in as int32 (a floating
  // modulo per digit cost a tenth of a converged plan).
  const low = from + HASH_HEX - 8;
  for (let i = from; i < low; i++) if (hexDigit(name.charCodeAt(i)) < 0) return -1;
  let hash = 0;
  for (let i = low; i < from + HASH_HEX; i++) {
    const digit = hexDigit(name.charCodeAt(i));
    if (digit < 0) return -1;
    hash = (hash << 4) | digit;
  }
  return hash >>> 0;
}

function hexDigit(ch: number): number {
  return ch >= 48 && ch <= 57
    ? ch - 48
    : ch >= 97 && ch <= 102
      ? ch - 87
      : ch >= 65 && ch <= 70
        ? ch - 55
        : -1;
}

/** The index's own reading of rule i's name into keys[i], prefixLengths[i] and hashes[i]. */
function parse(index: LivingIndex, i: number): void {
  const name = index.rules[i]?.name ?? "";
  const hash = parseTail(name, index, i) ? hashAt(name, index.prefixLengths[i] ?? 0) : -1;
  if (hash < 0) index.keys[i] = UNPARSED;
  else index.hashes[i] = hash | 0;
}

/**
 * Files rule i (its parts read) under its name: a later rule of a name already seen only updates
 * that name's lastOf.
 */
function file(index: LivingIndex, i: number): void {
  const name = index.rules[i]?.name ?? "";
  if (index.keys[i] === UNPARSED) {
    const first = index.others.get(name);
    if (first === undefined) {
      index.others.set(name, i);
      index.lastOf[i] = i;
    } else {
      index.lastOf[first] = i;
      index.lastOf[i] = -1;
    }
    return;
  }
  const hash = index.hashes[i] ?? 0;
  const head = hash & index.mask;
  for (let j = index.heads[head] ?? -1; j >= 0; j = index.next[j] ?? -1) {
    if (index.hashes[j] === hash && index.keys[j] === index.keys[i] && index.rules[j]?.name === name) {
      index.lastOf[j] = i;
      index.lastOf[i] = -1;
      return;
    }
  }
  index.next[i] = index.heads[head] ?? -1;
  index.heads[head] = i;
  index.lastOf[i] = i;
}

function emptyIndex(rules: SecurityRule[], parts: NameParts): LivingIndex {
  const n = rules.length;
  let size = 16;
  while (size < 2 * n) size *= 2;
  return {
    rules,
    lastOf: new Int32Array(n),
    keys: parts.keys,
    prefixLengths: parts.prefixLengths,
    hashes: parts.hashes,
    nameHeads: parts.heads,
    heads: new Int32Array(size).fill(-1),
    next: new Int32Array(n),
    mask: size - 1,
    others: new Map(),
    byName: undefined,
  };
}

/** The index of `rules`, each name read here. */
export function newLivingIndex(rules: SecurityRule[]): LivingIndex {
  const n = rules.length;
  const parts = { keys: new Int32Array(n), prefixLengths: new Int32Array(n), hashes: new Int32Array(n) };
  const index = emptyIndex(rules, parts);
  for (let i = 0; i < n; i++) {
    parse(index, i);
    file(index, i);
  }
  return index;
}

/**
 * The index of `rules` from the parts of their names as the rule grammar read them while it told
 * own rules from foreign ones (readOwnName), so that each name is read once per plan: the same
 * index as newLivingIndex(rules) (a property test compares them).
 */
export function livingIndexFrom(rules: SecurityRule[], parts: NameParts): LivingIndex {
  const index = emptyIndex(rules, parts);
  for (let i = 0; i < rules.length; i++) file(index, i);
  return index;
}

/** The binding's living rules as (rule key, rule index) pairs, found once per binding and plan. */
function livingOf(index: LivingIndex, b: NormBinding): number[] {
  if (b.living !== undefined) return b.living;
  const out: number[] = [];
  const prefix = b.rulePrefix;
  const hash = b.hash | 0;
  // The head (NameParts.heads) last found to be `prefix`: its other rules have the same text there.
  let matched = -1;
  for (let i = index.heads[hash & index.mask] ?? -1; i >= 0; i = index.next[i] ?? -1) {
    if (index.hashes[i] !== hash || index.prefixLengths[i] !== prefix.length) continue;
    const head = headOf(index, i);
    if (head < 0 || head !== matched) {
      if (!startsWithPrefix(index.rules[i]?.name ?? "", prefix)) continue;
      matched = head;
    }
    out.push(index.keys[i] ?? UNPARSED, index.lastOf[i] ?? -1);
  }
  b.living = out;
  return out;
}

/** The head of rule i (NameParts.heads), or -1 when heads were not read. */
function headOf(index: LivingIndex, i: number): number {
  return index.nameHeads === undefined ? -1 : (index.nameHeads[i] ?? -1);
}

/**
 * True when `name` (known to be as long as `prefix` up to its tail) starts with `prefix` in any letter
 * case: startsWith as readOwnName compares heads (rule-grammar.ts), the letter case compared only
 * when that fails (rare: a rule renamed by hand).
 */
function startsWithPrefix(name: string, prefix: string): boolean {
  return (
    name.lastIndexOf(prefix, 0) === 0 || name.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase()
  );
}

function byName(index: LivingIndex, name: string): number {
  if (index.byName === undefined) {
    index.byName = new Map();
    for (let i = 0; i < index.rules.length; i++) index.byName.set(index.rules[i]?.name ?? "", i);
  }
  return index.byName.get(name) ?? -1;
}

/** Index of the observed rule named like the binding's deny of `protocol`, or -1. */
export function livingDeny(index: LivingIndex, b: NormBinding, protocol: Protocol): number {
  if (!readableProtocol(protocol)) return byName(index, denyNameFrom(b.rulePrefix, protocol));
  return keyed(livingOf(index, b), denyKey(protocol));
}

/** Index of the observed rule named like the binding's allow of (protocol, port), or -1. */
export function livingAllow(index: LivingIndex, b: NormBinding, protocol: Protocol, port: number): number {
  if (!readablePort(port) || !readableProtocol(protocol)) {
    return byName(index, allowNameFrom(b.rulePrefix, protocol, port));
  }
  return keyed(livingOf(index, b), slotKey(protocol, port));
}

function keyed(pairs: number[], key: number): number {
  for (let j = 0; j < pairs.length; j += 2) if (pairs[j] === key) return pairs[j + 1] ?? -1;
  return -1;
}

/** The observed rule at `i`, if any. */
export function ruleAt(index: LivingIndex, i: number): SecurityRule | undefined {
  return i < 0 ? undefined : index.rules[i];
}

/** Indexes of the binding's living rules (the last rule of each name), for rules kept as they are. */
export function livingRulesOf(index: LivingIndex, b: NormBinding): number[] {
  const pairs = livingOf(index, b);
  const out: number[] = [];
  for (let j = 1; j < pairs.length; j += 2) {
    const i = pairs[j] ?? -1;
    if (i >= 0) out.push(i);
  }
  return out;
}
