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

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function isSlugChar(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 46 || c === DASH;
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

/** Whether `name` is one the grammar's instance could have built, and in which format. */
export function ownNameFormat(name: string, g: OwnGrammar): NameFormat {
  if (name.length > 80 || !startsWithFolded(name, g.prefix)) return NOT_OWN;
  const tail = tailStart(name);
  if (tail < 0) return NOT_OWN;
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

/**
 * True when the rule belongs to exactly this instance ("" = the default instance): its name is one
 * the instance's planner could have built (in the current or the legacy format).
 */
export function isOwnRule(rule: Pick<SecurityRule, "name">, instance: string): boolean {
  return ownNameFormat(rule.name, ownGrammar(instance)) !== NOT_OWN;
}
