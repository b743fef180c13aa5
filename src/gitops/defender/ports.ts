// One Defender port rule to one JitPolicy port. Anything that does not carry over exactly is
// returned as a finding and the port is left out, never guessed at: a guess could widen access.
import type { PolicyPort, Protocol } from "../../api/types.ts";
import { DURATION_BOUNDS, formatDuration, parseDuration, parsePrefix } from "../../core/index.ts";

/** Defender's `*` source: only the address of whoever asks. In drawbridge that is a request that
 * names one address (/32 or /128); omitted allowedSourceAddressPrefixes lets it name any specific one. */
export const REQUESTER_ADDRESS_LENGTHS = { ipv4: 32, ipv6: 128 } as const;

export const REQUESTER_ADDRESS_COMMENT =
  'Defender\'s allowedSourceAddressPrefix "*" meant "the requester\'s address": here any single ' +
  "address (/32, /128) the AccessRequest names; the request's sourceAddressPrefix is that address.";

const PROTOCOLS: Record<string, Protocol> = { TCP: "TCP", UDP: "UDP", "*": "Any" };

export type PortResult =
  { ok: true; port: PolicyPort; requesterAddress: boolean } | { ok: false; problem: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sourcesOf(rule: Record<string, unknown>): { prefixes: string[] } | { problem: string } {
  const one = rule["allowedSourceAddressPrefix"];
  const many = rule["allowedSourceAddressPrefixes"];
  if (one !== undefined && many !== undefined) {
    return {
      problem: "sets both allowedSourceAddressPrefix and allowedSourceAddressPrefixes (mutually exclusive)",
    };
  }
  const list = many ?? (one === undefined ? ["*"] : [one]);
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === "string")) {
    return {
      problem: `allowedSourceAddressPrefixes must be a non-empty list of strings, got ${JSON.stringify(many)}`,
    };
  }
  return { prefixes: list };
}

function durationOf(max: unknown): { text: string } | { problem: string } {
  const parsed = typeof max === "string" ? parseDuration(max) : undefined;
  if (parsed === undefined || !parsed.ok) {
    const why = parsed === undefined ? `got ${JSON.stringify(max)}` : parsed.error;
    return { problem: `maxRequestAccessDuration: ${why}` };
  }
  if (parsed.ms < DURATION_BOUNDS.policyMaxMinMs || parsed.ms > DURATION_BOUNDS.policyMaxMaxMs) {
    return { problem: `maxRequestAccessDuration ${String(max)} is outside drawbridge's PT1M..P1D` };
  }
  return { text: formatDuration(parsed.ms) };
}

export function mapPort(rule: unknown): PortResult {
  if (!isRecord(rule)) return { ok: false, problem: "is not an object" };
  const number = rule["number"];
  if (typeof number !== "number" || !Number.isInteger(number) || number < 1 || number > 65535) {
    return { ok: false, problem: `number must be an integer 1..65535, got ${JSON.stringify(number)}` };
  }
  const protocol = PROTOCOLS[String(rule["protocol"])];
  if (protocol === undefined) {
    return { ok: false, problem: `protocol must be TCP, UDP or *, got ${JSON.stringify(rule["protocol"])}` };
  }
  const duration = durationOf(rule["maxRequestAccessDuration"]);
  if ("problem" in duration) return { ok: false, problem: duration.problem };
  const sources = sourcesOf(rule);
  if ("problem" in sources) return { ok: false, problem: sources.problem };
  const base = { number, protocol, maxDuration: duration.text };
  if (sources.prefixes.includes("*")) {
    if (sources.prefixes.length > 1) {
      return {
        ok: false,
        problem: `lists "*" together with other prefixes (${sources.prefixes.join(", ")})`,
      };
    }
    return {
      ok: true,
      port: { ...base, minimumSourcePrefixLength: { ...REQUESTER_ADDRESS_LENGTHS } },
      requesterAddress: true,
    };
  }
  for (const p of sources.prefixes) {
    const r = parsePrefix(p);
    if (!r.ok) return { ok: false, problem: `allowed source ${JSON.stringify(p)}: ${r.error}` };
  }
  return {
    ok: true,
    port: { ...base, allowedSourceAddressPrefixes: [...sources.prefixes] },
    requesterAddress: false,
  };
}
