// IPv4/IPv6 address and prefix maths for sources and destinations. Parsing is strict (four-part
// decimal IPv4, no zone ids, no host bits set) because a lenient parser that reads "10.1" as
// 10.0.0.1 would open something nobody asked for.
import ipaddr from "ipaddr.js";

export type IpFamily = "IPv4" | "IPv6";

/** Source values that mean "everyone"; a policy must list the exact one to accept it. */
export const WILDCARD_PREFIXES: readonly string[] = ["*", "Internet", "Any", "0.0.0.0/0", "::/0"];

export interface ParsedPrefix {
  family: IpFamily;
  /** Network address bytes (4 or 16). */
  bytes: number[];
  bits: number;
  /** Canonical text: address in RFC 5952 / dotted form, always with "/bits". */
  text: string;
}

export type PrefixResult = { ok: true; prefix: ParsedPrefix } | { ok: false; error: string };

const WILDCARD_LOWER = new Set(WILDCARD_PREFIXES.map((w) => w.toLowerCase()));

/**
 * True for anything that means "every address": the listed wildcards in any letter case and any
 * zero-length prefix (e.g. "::0/0"). Detection is broad on purpose; acceptance (validate.ts) is exact.
 */
export function isWildcardPrefix(text: string): boolean {
  if (WILDCARD_LOWER.has(text.toLowerCase())) return true;
  const r = parsePrefix(text);
  return r.ok && r.prefix.bits === 0;
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (text.includes(":")) {
    // Zone ids and IPv4-mapped forms are refused, as the API server's CEL isIP() refuses them.
    if (text.includes("%") || !ipaddr.IPv6.isValid(text)) return undefined;
    const v6 = ipaddr.IPv6.parse(text);
    return v6.isIPv4MappedAddress() ? undefined : v6;
  }
  return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text) : undefined;
}

const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})(?:\/(0|[1-9]\d?))?$/;

/** The common case, canonical IPv4 text, without the general parser (the planner sees thousands). */
function fastIPv4(text: string): PrefixResult | undefined {
  const m = IPV4.exec(text);
  if (m === null) return undefined;
  const bytes = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  const bits = m[5] === undefined ? 32 : Number(m[5]);
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = bytes;
  if (bits > 32 || b0 > 255 || b1 > 255 || b2 > 255 || b3 > 255) return undefined;
  // Host bits clear, on the 32-bit address (hostBitsClear's byte arrays cost more than the parse).
  const host = bits >= 32 ? 0 : 0xffffffff >>> bits; // (a shift by 32 would shift by 0)
  if ((((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) & host) !== 0) return undefined;
  const canonical = m[5] === undefined ? `${text}/32` : text;
  return { ok: true, prefix: { family: "IPv4", bytes, bits, text: canonical } };
}

/** Parses "a.b.c.d", "a.b.c.d/n", "x::y" or "x::y/n" (a bare address is a host prefix). */
export function parsePrefix(text: string): PrefixResult {
  const fast = fastIPv4(text);
  if (fast !== undefined) return fast;
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const bitsText = slash < 0 ? undefined : text.slice(slash + 1);
  const addr = parseAddress(addrText);
  if (addr === undefined) return { ok: false, error: `"${text}" is not an IPv4 or IPv6 address or CIDR` };
  const family: IpFamily = addr.kind() === "ipv4" ? "IPv4" : "IPv6";
  const max = family === "IPv4" ? 32 : 128;
  if (bitsText !== undefined && !/^(0|[1-9][0-9]{0,2})$/.test(bitsText)) {
    return { ok: false, error: `"${text}" has an invalid prefix length (0..${max})` };
  }
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (bits > max) return { ok: false, error: `"${text}" has prefix length ${bits} above ${max}` };
  const bytes = addr.toByteArray();
  if (!hostBitsClear(bytes, bits)) {
    const network = maskBytes(bytes, bits);
    return {
      ok: false,
      error: `"${text}" has host bits set; the network is ${formatPrefix(family, network, bits)}`,
    };
  }
  return { ok: true, prefix: { family, bytes, bits, text: formatPrefix(family, bytes, bits) } };
}

function maskBytes(bytes: number[], bits: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
}

function hostBitsClear(bytes: number[], bits: number): boolean {
  const masked = maskBytes(bytes, bits);
  return masked.every((b, i) => b === bytes[i]);
}

function formatPrefix(family: IpFamily, bytes: number[], bits: number): string {
  const addr = ipaddr.fromByteArray(bytes);
  const text = family === "IPv6" ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
  return `${text}/${bits}`;
}

/** The decimal number text[from..to) (no sign, no leading zero), or -1. */
function decimalAt(text: string, from: number, to: number): number {
  if (to <= from || to - from > 3 || (to - from > 1 && text.charCodeAt(from) === 48)) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * normalizePrefix of canonical IPv4 text (what fastIPv4 accepts) by one scan, without the regex,
 * byte arrays and result objects; null for anything else, which takes the full parser.
 */
/**
 * Where the octet starting at `at` ends, when the right separator follows it ("." after the first
 * three, "/" or the end of the text after the last); else -1.
 */
function octetEnd(text: string, at: number, last: boolean): number {
  let end = at;
  while (end < text.length && end - at < 4 && text.charCodeAt(end) !== 46 && text.charCodeAt(end) !== 47) {
    end++;
  }
  const ok = last ? end === text.length || text.charCodeAt(end) === 47 : text.charCodeAt(end) === 46;
  return ok ? end : -1;
}

function canonicalIPv4(text: string): string | null {
  let address = 0;
  let at = 0;
  for (let part = 0; part < 4; part++) {
    const end = octetEnd(text, at, part === 3);
    const n = end < 0 ? -1 : decimalAt(text, at, end);
    if (n < 0 || n > 255) return null;
    address = address * 256 + n;
    at = end + 1;
  }
  if (at > text.length) return `${text}/32`;
  const bits = decimalAt(text, at, text.length);
  if (bits < 0 || bits > 32 || text.length - at > 2) return null;
  // Host bits clear; at 32 bits there are none (a shift by 32 would shift by 0).
  const host = bits >= 32 ? 0 : 0xffffffff >>> bits;
  return ((address | 0) & host) === 0 ? text : null;
}

/** Canonical CIDR text ("10.0.1.4" -> "10.0.1.4/32"), or undefined when not a valid prefix. */
export function normalizePrefix(text: string): string | undefined {
  const fast = canonicalIPv4(text);
  if (fast !== null) return fast;
  const r = parsePrefix(text);
  return r.ok ? r.prefix.text : undefined;
}

export function prefixFamily(text: string): IpFamily | undefined {
  const r = parsePrefix(text);
  return r.ok ? r.prefix.family : undefined;
}

function bytesContain(outer: ParsedPrefix, inner: ParsedPrefix): boolean {
  if (outer.family !== inner.family || outer.bits > inner.bits) return false;
  const full = outer.bits >> 3;
  for (let i = 0; i < full; i++) if (outer.bytes[i] !== inner.bytes[i]) return false;
  const rest = outer.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((outer.bytes[full] ?? 0) & mask) === ((inner.bytes[full] ?? 0) & mask);
}

/**
 * True when every address of `inner` lies in `outer` (CIDR containment, same family). Named wildcards
 * and invalid text contain nothing here; validate.ts decides what "*" or "Any" in a policy admits.
 */
export function prefixContains(outer: string, inner: string): boolean {
  const o = parsePrefix(outer);
  const i = parsePrefix(inner);
  return o.ok && i.ok && bytesContain(o.prefix, i.prefix);
}

/** True when the two prefixes share at least one address. */
export function prefixesOverlap(a: string, b: string): boolean {
  const pa = parsePrefix(a);
  const pb = parsePrefix(b);
  return pa.ok && pb.ok && (bytesContain(pa.prefix, pb.prefix) || bytesContain(pb.prefix, pa.prefix));
}

/** 2^0 .. 2^128: the address counts of every prefix length, one bigint each (held per source prefix). */
const POWERS_OF_TWO: readonly bigint[] = Array.from({ length: 129 }, (_, i) => 1n << BigInt(i));

/** How many addresses a prefix covers: 2^(32 - bits) or 2^(128 - bits). */
export function prefixAddressCount(family: IpFamily, bits: number): bigint {
  const exponent = (family === "IPv4" ? 32 : 128) - bits;
  return POWERS_OF_TWO[exponent] ?? 1n << BigInt(exponent);
}

function networkNumber(p: ParsedPrefix): bigint {
  let n = 0n;
  for (const b of p.bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/**
 * How many distinct addresses of `family` the prefixes cover together, each address counted once.
 * CIDR blocks either nest or are disjoint, so after sorting by network address (wider first on a
 * tie) a block is either inside the last block kept or starts a new one. Other families, wildcards
 * and invalid text are left out: the caller bounds specific prefixes, wildcards have their own rule.
 */
export function unionAddressCount(prefixes: Iterable<string>, family: IpFamily): bigint {
  const blocks: { start: bigint; size: bigint }[] = [];
  for (const text of prefixes) {
    if (isWildcardPrefix(text)) continue;
    const r = parsePrefix(text);
    if (!r.ok || r.prefix.family !== family) continue;
    blocks.push({ start: networkNumber(r.prefix), size: prefixAddressCount(family, r.prefix.bits) });
  }
  blocks.sort((a, b) =>
    a.start !== b.start ? (a.start < b.start ? -1 : 1) : a.size === b.size ? 0 : a.size > b.size ? -1 : 1,
  );
  let total = 0n;
  let end = -1n; // one past the last address of the last block kept
  for (const b of blocks) {
    if (b.start < end) continue; // nested in the block kept before it
    total += b.size;
    end = b.start + b.size;
  }
  return total;
}
