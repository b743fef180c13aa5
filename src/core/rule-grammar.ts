// Which observed rules are an instance's own: exactly the names its planner could have built,
// "<instance prefix><slug>-<hash>-<tcp|udp|any>-<port>" or "...-<hash>-deny-<tcp|udp|any>", in any
// letter case (ARM names compare case-insensitively). The hash is 16 hex digits (names.ts) or, for
// rules written before the 64-bit hash, 8 (legacy-names.ts): those are still own, so an upgrade
// replaces them. Anything else is foreign, even when it starts "drawbridge-": a rule a person named
// "Drawbridge-admin-ssh" is never rewritten or deleted, and counts against the limits like any other.
import { HASH_HEX, slugMax } from "./names.ts";
import { instanceRulePrefix } from "./nsg.ts";
import { startsWithFolded } from "./nsg.ts";
import type { SecurityRule } from "./nsg.ts";

export const NOT_OWN = 0;
export const CURRENT_NAME = 1;
export const LEGACY_NAME = 2;
export type NameFormat = typeof NOT_OWN | typeof CURRENT_NAME | typeof LEGACY_NAME;

/** Hex digits of the hash in names written before the 64-bit hash. */
export const LEGACY_HASH_HEX = 8;
const LEGACY_SLUG_MAX = 48;
/** "-<hash8>-" and "tcp-65535" after the slug in a legacy name. */
const LEGACY_AFTER_SLUG_MAX = LEGACY_HASH_HEX + 11;

/** What an instance's own names look like: its prefix (lower case) and the longest slugs. */
export interface OwnGrammar {
  prefix: string;
  slugMax: number;
  legacySlugMax: number;
}

export function ownGrammar(instance: string): OwnGrammar {
  const prefix = instanceRulePrefix(instance);
  return {
    prefix,
    slugMax: slugMax(instance),
    legacySlugMax: Math.min(LEGACY_SLUG_MAX, 80 - prefix.length - LEGACY_AFTER_SLUG_MAX),
  };
}

const DASH = 45;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Character classes of the ASCII code units, by table: every name of an NSG is read character by
 * character once per plan, and one load costs less than the chain of comparisons it replaces. */
const HEX = 1;
const SLUG = 2;
const CLASSES = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const digit = isDigit(c);
  const lower = c >= 97 && c <= 122;
  const upper = c >= 65 && c <= 90;
  const hex = digit || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
  CLASSES[c] = (hex ? HEX : 0) | (digit || lower || upper || c === 95 || c === 46 || c === DASH ? SLUG : 0);
}

/** True for the ASCII code units of class `cls` (HEX: 0-9 a-f A-F; SLUG: letters, digits, "_", ".", "-"). */
export function isClass(c: number, cls: number): boolean {
  return c < 128 && ((CLASSES[c] ?? 0) & cls) !== 0;
}

function isHex(c: number): boolean {
  return isClass(c, HEX);
}

function isSlugChar(c: number): boolean {
  return isClass(c, SLUG);
}

/** The protocol token ("tcp", "udp", "any" in any case) at name[at..at+3). */
function isToken(name: string, at: number): boolean {
  // `| 32` lower-cases a letter; the only other code units it maps onto these letters are the
  // letters' upper-case forms.
  const a = name.charCodeAt(at) | 32;
  const b = name.charCodeAt(at + 1) | 32;
  const c = name.charCodeAt(at + 2) | 32;
  return (
    (a === 116 && b === 99 && c === 112) ||
    (a === 117 && b === 100 && c === 112) ||
    (a === 97 && b === 110 && c === 121)
  );
}

/** True when "deny" (in any letter case) is at `at`. */
function isDeny(name: string, at: number): boolean {
  return (
    (name.charCodeAt(at) | 32) === 100 &&
    (name.charCodeAt(at + 1) | 32) === 101 &&
    (name.charCodeAt(at + 2) | 32) === 110 &&
    (name.charCodeAt(at + 3) | 32) === 121
  );
}

/** The start of an allow tail "<token>-<port>" whose port digits start at `start`, or -1. */
function allowTailStart(name: string, start: number): number {
  const end = name.length;
  if (end - start > 5 || (end - start > 1 && name.charCodeAt(start) === 48)) return -1;
  let port = 0;
  for (let i = start; i < end; i++) port = port * 10 + name.charCodeAt(i) - 48;
  if (port > 65535) return -1;
  if (start < 5 || name.charCodeAt(start - 1) !== DASH || !isToken(name, start - 4)) return -1;
  return start - 4;
}

/** The start of the tail ("<token>-<port>" or "deny-<token>") of a built name, or -1. */
function tailStart(name: string): number {
  const end = name.length;
  let start = end;
  while (start > 0 && end - start < 6 && isDigit(name.charCodeAt(start - 1))) start--;
  if (start < end) return allowTailStart(name, start);
  if (end < 8 || name.charCodeAt(end - 4) !== DASH || !isToken(name, end - 3)) return -1;
  return isDeny(name, end - 8) ? end - 8 : -1;
}

/** True when name[from - hex - 1 .. from) is "-" and `hex` hex digits, and name[from] is "-". */
function hashBefore(name: string, dashAt: number, hex: number): boolean {
  if (name.charCodeAt(dashAt) !== DASH) return false;
  const from = dashAt - hex;
  if (from < 1 || name.charCodeAt(from - 1) !== DASH) return false;
  for (let i = from; i < dashAt; i++) if (!isHex(name.charCodeAt(i))) return false;
  return true;
}

/** True when name[from..to) is a slug of 1..max characters. */
function isSlug(name: string, from: number, to: number, max: number): boolean {
  if (to <= from || to - from > max) return false;
  for (let i = from; i < to; i++) if (!isSlugChar(name.charCodeAt(i))) return false;
  return true;
}

/**
 * What the index of living rules (living.ts) files an own name by, read while its format is checked
 * (each name is then read once per plan): per rule, the rule key (slotKey of an allow, denyKey of a
 * deny; UNPARSED_KEY for a legacy name, which matches no binding), the length of the binding prefix
 * and the low 32 bits of the hash, as int32.
 */
export interface NameParts {
  keys: Int32Array;
  prefixLengths: Int32Array;
  hashes: Int32Array;
  /**
   * Per rule, when given: the index of the first rule read with the very same text before its tail
   * (its own index for a name read in full). Rules of one head share every answer about that text,
   * so the living index compares a binding's prefix with it once, not once per rule.
   */
  heads?: Int32Array;
}

/** The rule key of a name that matches no binding: no slotKey of a readable port, no denyKey. */
export const UNPARSED_KEY = -100;

/** The value of hex digit `c` (checked by the caller). */
function hexValue(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/** The protocol index (tcp 0, udp 1, any 2) of the token at `at` (checked by the caller). */
function tokenIndex(name: string, at: number): number {
  const a = name.charCodeAt(at) | 32;
  return a === 116 ? 0 : a === 117 ? 1 : 2;
}

/** The low 32 bits of the hash ending at name[tail - 1] (checked by the caller), as int32. */
function hashLow(name: string, tail: number): number {
  let hash = 0;
  for (let j = tail - 9; j < tail - 1; j++) hash = (hash << 4) | hexValue(name.charCodeAt(j));
  return hash;
}

/** Writes parts[i] of a current-format name whose tail starts at `tail` (see NameParts). */
function writeParts(name: string, tail: number, hash: number, parts: NameParts, i: number): void {
  if ((name.charCodeAt(tail) | 32) === 100) {
    parts.keys[i] = -1 - tokenIndex(name, tail + 5); // "deny-<token>"
  } else {
    let port = 0;
    for (let j = tail + 4; j < name.length; j++) port = port * 10 + name.charCodeAt(j) - 48;
    parts.keys[i] = port * 4 + tokenIndex(name, tail);
  }
  parts.prefixLengths[i] = tail;
  parts.hashes[i] = hash;
}

/** The format of a name within the length limit whose tail starts at `tail` (>= 0). */
function formatAt(name: string, g: OwnGrammar, tail: number): NameFormat {
  if (!startsWithFolded(name, g.prefix)) return NOT_OWN;
  const dash = tail - 1; // the "-" that ends the hash
  const slugFrom = g.prefix.length;
  if (hashBefore(name, dash, HASH_HEX) && isSlug(name, slugFrom, dash - HASH_HEX - 1, g.slugMax)) {
    return CURRENT_NAME;
  }
  if (
    hashBefore(name, dash, LEGACY_HASH_HEX) &&
    isSlug(name, slugFrom, dash - LEGACY_HASH_HEX - 1, g.legacySlugMax)
  ) {
    return LEGACY_NAME;
  }
  return NOT_OWN;
}

/** Whether `name` is one the grammar's instance could have built, and in which format. */
export function ownNameFormat(name: string, g: OwnGrammar): NameFormat {
  if (name.length > 80) return NOT_OWN;
  const tail = tailStart(name);
  return tail < 0 ? NOT_OWN : formatAt(name, g, tail);
}

/**
 * One plan's reading of the names of an NSG (readOwnName). `head` is the text before the tail of
 * the last current-format name read (prefix, slug and hash: the binding's rule prefix) and `hash`
 * its hash: the rules of one binding repeat it, and a name whose text before its tail is exactly
 * that text passes the same checks of it, so only its tail is read (comparing the head costs a
 * fraction of reading ~50 characters one by one).
 */
export interface NameReader {
  g: OwnGrammar;
  parts: NameParts;
  head: string;
  hash: number;
  /** The index of the rule `head` was read from. */
  headAt: number;
}

export function nameReader(g: OwnGrammar, parts: NameParts): NameReader {
  return { g, parts, head: "", hash: 0, headAt: -1 };
}

/** ownNameFormat(name, r.g), writing r.parts at `i` for an own name (NameParts). */
export function readOwnName(name: string, r: NameReader, i: number): NameFormat {
  if (name.length > 80) return NOT_OWN;
  const tail = tailStart(name);
  if (tail < 0) return NOT_OWN;
  // `lastIndexOf(head, 0) === 0` is startsWith without a slice: searching backwards from 0 tries
  // position 0 only (a third of the cost of startsWith here, and nothing allocated).
  if (r.head !== "" && tail === r.head.length && name.lastIndexOf(r.head, 0) === 0) {
    writeParts(name, tail, r.hash, r.parts, i);
    if (r.parts.heads !== undefined) r.parts.heads[i] = r.headAt;
    return CURRENT_NAME;
  }
  const format = formatAt(name, r.g, tail);
  if (format === CURRENT_NAME) {
    r.head = name.slice(0, tail);
    r.hash = hashLow(name, tail);
    r.headAt = i;
    writeParts(name, tail, r.hash, r.parts, i);
  } else if (format === LEGACY_NAME) r.parts.keys[i] = UNPARSED_KEY;
  if (format !== NOT_OWN && r.parts.heads !== undefined) r.parts.heads[i] = i;
  return format;
}

/**
 * True when the rule belongs to exactly this instance ("" = the default instance): its name is one
 * the instance's planner could have built (in the current or the legacy format).
 */
export function isOwnRule(rule: Pick<SecurityRule, "name">, instance: string): boolean {
  return ownNameFormat(rule.name, ownGrammar(instance)) !== NOT_OWN;
}
