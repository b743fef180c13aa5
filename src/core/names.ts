// Deterministic names and descriptions of managed rules. A name carries the policy for people and a
// 64-bit cryptographic hash of (policy key, target id) for uniqueness, so it stays within Azure's 80
// characters whatever the namespace, policy or target is called. A named instance's names start
// "drawbridge.<id>-" (see nsg.ts) and take a shorter slug. Names of the earlier format (a 48-character
// slug and an 8-digit hash) are read by legacy-names.ts, so that an upgrade replaces them safely.
// An allow rule's description also carries the latest expiry among the grants it holds, early enough
// that clipping never cuts it: `drawbridge sweep` reads it to remove lapsed rules without the operator.
import { hash } from "node:crypto";
import type { Protocol } from "../api/types.ts";
import { AZURE_LIMITS, instanceRulePrefix } from "./nsg.ts";
import type { RuleProtocol } from "./nsg.ts";

const SLUG_MAX = 42;
/** Hex digits of a binding's hash in its rule names (64 bits). */
export const HASH_HEX = 16;
/** The longest name after the slug: "-<hash16>-" and "tcp-65535" (denies end "deny-tcp"). */
const AFTER_SLUG_MAX = HASH_HEX + 11;

/** The longest slug that keeps every name of the instance within Azure's 80 characters. */
export function slugMax(instance: string): number {
  return Math.min(SLUG_MAX, AZURE_LIMITS.ruleNameMax - instanceRulePrefix(instance).length - AFTER_SLUG_MAX);
}

/**
 * The 64-bit hash naming (policy, target), as 16 lower-case hex digits: the first 8 bytes of SHA-256
 * over both fields, each prefixed by its length, so no two (policy key, id) pairs share an encoding
 * (a "/" in one and a "-" in another, or text moved across the boundary, still differ). A
 * cryptographic hash: nobody can craft a policy name that reproduces another policy's hash.
 */
export function bindingHashOfLower(policyKey: string, lowerTargetId: string): string {
  let ofPolicy = HASHES.get(policyKey);
  const known = ofPolicy?.get(lowerTargetId);
  if (known !== undefined) return known;
  const text = `${policyKey.length}:${policyKey}${lowerTargetId.length}:${lowerTargetId}`;
  const digest = hash("sha256", text, "hex").slice(0, HASH_HEX);
  if (HASHES.size >= HASH_MEMO_POLICIES) HASHES.clear();
  if (ofPolicy === undefined) HASHES.set(policyKey, (ofPolicy = new Map<string, string>()));
  if (ofPolicy.size >= HASH_MEMO_TARGETS) ofPolicy.clear();
  ofPolicy.set(lowerTargetId, digest);
  return digest;
}

/**
 * Hashes already computed, by policy key then lower-cased target id. Every plan names each of its
 * bindings, so without it each plan paid one SHA-256 per binding (a tenth of a converged plan of
 * 100 bindings). A memo of a pure function: what it holds never changes an answer, only its cost.
 * Bounded (cleared when full) so that deleted policies and targets cannot make it grow for ever.
 */
const HASHES = new Map<string, Map<string, string>>();
const HASH_MEMO_POLICIES = 4096;
const HASH_MEMO_TARGETS = 4096;

/** The low 32 bits of a binding hash (its last 8 hex digits): what the index of living rules files by. */
export function hashLow32(hash: string): number {
  // Read digit by digit: a slice and a parseInt per binding cost more than the eight digits. Shifting
  // into an int32 wraps as `| 0` of the unsigned value does.
  let low = 0;
  for (let i = HASH_HEX - 8; i < HASH_HEX; i++) {
    const digit = lowerHexDigit(hash.charCodeAt(i));
    if (digit < 0) return Number.parseInt(hash.slice(HASH_HEX - 8), 16) | 0; // not a digest: as before
    low = (low << 4) | digit;
  }
  return low;
}

/** The value of a digit of a digest (0-9, a-f), or -1. */
function lowerHexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/** Sixteen hex digits identifying (policy, target); ARM ids compare case-insensitively. */
export function bindingHash(policyKey: string, targetId: string): string {
  return bindingHashOfLower(policyKey, targetId.toLowerCase());
}

/** The policy key as it appears in the rule names of an instance ("" = the default instance). */
export function policySlug(policyKey: string, instance = ""): string {
  return policyKey.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, slugMax(instance));
}

/** The binding prefix from the policy's slug, the binding's hash and the instance's name prefix. */
export function rulePrefixWithHash(slug: string, hash: string, ownPrefix = instanceRulePrefix("")): string {
  // Joined flat: the planner compares each observed name's head with it (living.ts) and folds it
  // (name-clashes.ts), and a string built with `+` would be walked piece by piece each time.
  return [ownPrefix, slug, "-", hash, "-"].join("");
}

/**
 * Every rule of one binding starts with this: "drawbridge-<ns>-<policy>-<hash16>-" for the default
 * instance, "drawbridge.<id>-<ns>-<policy>-<hash16>-" for instance <id>.
 */
export function bindingRulePrefix(policyKey: string, targetId: string, instance = ""): string {
  return rulePrefixWithHash(
    policySlug(policyKey, instance),
    bindingHash(policyKey, targetId),
    instanceRulePrefix(instance),
  );
}

export function protocolToken(protocol: Protocol): string {
  return protocol.toLowerCase();
}

/** The ARM protocol of a policy protocol (Any -> "*"). */
export function ruleProtocol(protocol: Protocol): RuleProtocol {
  if (protocol === "TCP") return "Tcp";
  if (protocol === "UDP") return "Udp";
  return "*";
}

export function allowRuleName(
  policyKey: string,
  targetId: string,
  protocol: Protocol,
  port: number,
  instance = "",
): string {
  return allowNameFrom(bindingRulePrefix(policyKey, targetId, instance), protocol, port);
}

export function denyRuleName(policyKey: string, targetId: string, protocol: Protocol, instance = ""): string {
  return denyNameFrom(bindingRulePrefix(policyKey, targetId, instance), protocol);
}

/** allowRuleName from a precomputed bindingRulePrefix (the planner hashes once per binding). */
export function allowNameFrom(prefix: string, protocol: Protocol, port: number): string {
  return `${allowNameStem(prefix, protocol)}${port}`;
}

/** What every allow rule name of (binding, protocol) starts with; the port follows. */
export function allowNameStem(prefix: string, protocol: Protocol): string {
  return `${prefix}${protocolToken(protocol)}-`;
}

export function denyNameFrom(prefix: string, protocol: Protocol): string {
  return `${prefix}deny-${protocolToken(protocol)}`;
}

/** Azure's rule-name rules: 1..80 of letters, digits, "_", ".", "-", starting alnum, ending alnum or "_". */
export function isValidRuleName(name: string): boolean {
  return (
    name.length >= 1 &&
    name.length <= AZURE_LIMITS.ruleNameMax &&
    /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(name)
  );
}

/** The last segment of an ARM id ("/.../virtualMachines/web-1" -> "web-1"). */
export function shortTargetName(targetId: string): string {
  let end = targetId.length;
  while (end > 0 && targetId[end - 1] === "/") end--;
  if (end === 0) return targetId;
  return targetId.slice(targetId.lastIndexOf("/", end - 1) + 1, end);
}

function clip(text: string): string {
  const max = AZURE_LIMITS.descriptionMax;
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** The description of an allow rule whose latest grant expires at `expiresAt`. */
export function allowRuleDescription(
  policyKey: string,
  targetId: string,
  protocol: Protocol,
  port: number,
  sources: number,
  expiresAt: Date,
  instance = "",
): string {
  return allowDescriptionFrom(
    policyKey,
    shortTargetName(targetId),
    protocol,
    port,
    sources,
    expiresAt,
    instance,
  );
}

export function allowDescriptionFrom(
  policyKey: string,
  target: string,
  protocol: Protocol,
  port: number,
  sources: number,
  expiresAt: Date,
  instance = "",
): string {
  return allowDescriptionWith(
    allowDescriptionTail(policyKey, target),
    protocol,
    port,
    sources,
    descriptionHeads(instance).allow,
    expiryText(expiresAt.getTime()),
  );
}

/**
 * The part of an allow description that is the same for every rule of a binding. Joined: V8 returns
 * a flat string, which every description of the binding then ends with (see allow-descriptions.ts).
 */
export function allowDescriptionTail(policyKey: string, target: string): string {
  return [" source(s), policy ", policyKey, ", target ", target].join("");
}

// Exported for allow-descriptions.ts, which writes the same text.
export const PROTOCOL_TOKEN: Record<Protocol, string> = { TCP: "/TCP", UDP: "/UDP", Any: "/Any" };
export const UNTIL_JOIN = " until ";
export const SOURCES_JOIN = ", ";
const ALLOW_HEAD = "drawbridge JIT allow ";
const DENY_HEAD = "drawbridge JIT baseline deny ";
const POLICY_JOIN = ", policy ";
const TARGET_JOIN = ", target ";

/** How an instance's descriptions begin (allow and deny). */
export interface DescriptionHeads {
  allow: string;
  deny: string;
}

const DEFAULT_HEADS: DescriptionHeads = { allow: ALLOW_HEAD, deny: DENY_HEAD };

/**
 * The heads of an instance's descriptions: a named instance says who wrote the rule at the start,
 * where clipping to 140 characters never cuts it off.
 */
export function descriptionHeads(instance: string): DescriptionHeads {
  if (instance === "") return DEFAULT_HEADS;
  instanceRulePrefix(instance); // validates
  return {
    allow: `drawbridge instance ${instance} JIT allow `,
    deny: `drawbridge instance ${instance} JIT baseline deny `,
  };
}

/**
 * allowDescriptionFrom from the binding's precomputed tail: a few joins per rule instead of many.
 * `until` is expiryText of the rule's latest grant expiry; "" writes no expiry (the sweep then leaves
 * the rule alone). The expiry ends within the first 80 characters, before anything clip may cut.
 */
export function allowDescriptionWith(
  tail: string,
  protocol: Protocol,
  port: number,
  sources: number,
  head = ALLOW_HEAD,
  until = "",
): string {
  const expiry = until === "" ? "" : `${UNTIL_JOIN}${until}`;
  return clip(`${head}${port}${PROTOCOL_TOKEN[protocol]}${expiry}${SOURCES_JOIN}${sources}${tail}`);
}

/** "2026-12-03T10:15:00Z": what an expiry looks like in a description (UTC, whole seconds). */
const EXPIRY_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const EXPIRY_LENGTH = 20;

/**
 * A grant expiry (epoch ms) as descriptions carry it, rounded UP to the second so that a rule is never
 * read as lapsed before its last grant is; "" for a time that is not a finite date of years 0..9999.
 */
export function expiryText(ms: number): string {
  if (!Number.isFinite(ms)) return "";
  const seconds = new Date(Math.ceil(ms / 1000) * 1000);
  if (Number.isNaN(seconds.getTime())) return "";
  const iso = seconds.toISOString(); // "2026-12-03T10:15:00.000Z"; extended years are longer
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : "";
}

/**
 * expiryText with a memo for one plan: a plan's allow rules share few distinct expiries (one per
 * request), and formatting a date costs more than the rest of a description.
 */
export function expiryTexts(): (ms: number) => string {
  const memo = new Map<number, string>();
  let lastMs = Number.NaN;
  let lastText = "";
  return (ms: number): string => {
    // Rules placed one after another mostly share their expiry: compared before the Map lookup,
    // which boxes the number to hash it.
    if (ms === lastMs) return lastText;
    let text = memo.get(ms);
    if (text === undefined) {
      text = expiryText(ms);
      memo.set(ms, text);
    }
    lastMs = ms;
    lastText = text;
    return text;
  };
}

const RULE_PORT_RE = /^\d{1,5}\/(?:TCP|UDP|Any)$/;

/**
 * The expiry an allow rule's description states, as written by allowDescriptionWith for `instance`
 * ("" = the default instance): undefined unless the description begins with that instance's allow
 * head, a port/protocol and " until <expiryText>" followed by ", " or its end. Strict on purpose: a
 * rule is only ever called lapsed on a date drawbridge wrote in its own format.
 */
export function allowDescriptionExpiry(description: string | undefined, instance = ""): Date | undefined {
  if (description === undefined) return undefined;
  const head = descriptionHeads(instance).allow;
  if (!description.startsWith(head)) return undefined;
  const until = description.indexOf(UNTIL_JOIN, head.length);
  if (until < 0 || !RULE_PORT_RE.test(description.slice(head.length, until))) return undefined;
  const start = until + UNTIL_JOIN.length;
  const text = description.slice(start, start + EXPIRY_LENGTH);
  const rest = description.slice(start + EXPIRY_LENGTH);
  if (!EXPIRY_RE.test(text) || (rest !== "" && !rest.startsWith(SOURCES_JOIN))) return undefined;
  const ms = Date.parse(text);
  // The round trip refuses dates the pattern admits but the calendar does not (2026-02-30, 24:00:00).
  if (Number.isNaN(ms) || expiryText(ms) !== text) return undefined;
  return new Date(ms);
}

export function denyRuleDescription(
  policyKey: string,
  targetId: string,
  protocol: Protocol,
  instance = "",
): string {
  return denyDescriptionFrom(policyKey, shortTargetName(targetId), protocol, descriptionHeads(instance).deny);
}

export function denyDescriptionFrom(
  policyKey: string,
  target: string,
  protocol: Protocol,
  head = DENY_HEAD,
): string {
  return clip(`${head}${protocol}${POLICY_JOIN}${policyKey}${TARGET_JOIN}${target}`);
}
