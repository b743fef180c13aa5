// How wide one request's source may be, and how many addresses the grants on one allow rule may
// open together. A short prefix such as 0.0.0.0/1 is a wildcard in all but name, and many narrow
// grants add up: both limits keep "everyone" an explicit choice (a wildcard the policy lists) rather
// than the sum of requests nobody looked at as a whole.
import type { PolicyPort, SourcePrefixLengths } from "../api/types.ts";
import { issue } from "./checks.ts";
import { isWildcardPrefix, parsePrefix, prefixAddressCount } from "./cidr.ts";
import type { IpFamily } from "./cidr.ts";
import type { Issue } from "./types.ts";

/** The prefix lengths a policy may set, per family: never wider than /8 (IPv4) or /16 (IPv6). */
export const SOURCE_LENGTH_BOUNDS: Readonly<Record<IpFamily, { widest: number; narrowest: number }>> = {
  IPv4: { widest: 8, narrowest: 32 },
  IPv6: { widest: 16, narrowest: 128 },
};

/** The widest source one request may name when the port says nothing: a /24 or a /48. */
export const DEFAULT_MINIMUM_SOURCE_PREFIX_LENGTH: Readonly<Record<IpFamily, number>> = {
  IPv4: 24,
  IPv6: 48,
};

/** The default union is 2^4 = 16 prefixes of the minimum length (never wider than the bound). */
export const DEFAULT_UNION_WIDER_BITS = 4;

export interface SourceLimits {
  /** The shortest prefix length one request may name. */
  minimum: number;
  /** The active grants on one allow rule cover at most as many addresses as one prefix of this length. */
  union: number;
}

/** The policy field's key for a family. */
export function familyKey(family: IpFamily): keyof SourcePrefixLengths {
  return family === "IPv4" ? "ipv4" : "ipv6";
}

/** The effective limits of a port for a family (the policy's fields, else the defaults). */
export function sourceLimits(port: PolicyPort, family: IpFamily): SourceLimits {
  const key = familyKey(family);
  const widest = SOURCE_LENGTH_BOUNDS[family].widest;
  // A value past the bound makes the policy invalid; clamping here only keeps a slip from ever
  // meaning more than the bound allows.
  const minimum = Math.max(
    widest,
    port.minimumSourcePrefixLength?.[key] ?? DEFAULT_MINIMUM_SOURCE_PREFIX_LENGTH[family],
  );
  const union = Math.max(
    widest,
    port.sourceUnionPrefixLength?.[key] ?? Math.max(widest, minimum - DEFAULT_UNION_WIDER_BITS),
  );
  return { minimum, union };
}

export const SOURCE_FIELD = "spec.sourceAddressPrefix";

export function addresses(family: IpFamily, bits: number): string {
  return prefixAddressCount(family, bits).toLocaleString("en-US");
}

/**
 * A request source no policy can accept: shorter than /8 (IPv4) or /16 (IPv6) and not a /0
 * wildcard. Admission refuses it too (CEL on AccessRequest); this is the operator's re-check.
 */
export function sourceLengthShapeIssue(source: string): Issue | undefined {
  if (isWildcardPrefix(source)) return undefined;
  const r = parsePrefix(source);
  if (!r.ok) return undefined;
  const { family, bits } = r.prefix;
  const widest = SOURCE_LENGTH_BOUNDS[family].widest;
  if (bits >= widest) return undefined;
  const msg =
    `${SOURCE_FIELD} ${source} is an ${family} /${bits} (${addresses(family, bits)} addresses): no policy ` +
    `accepts a source wider than /${widest} for ${family}; name a narrower prefix (e.g. one host, ` +
    `${family === "IPv4" ? "/32" : "/128"}), or a wildcard the policy lists`;
  return issue("SourcePrefixTooWide", SOURCE_FIELD, msg);
}

/** Is a specific source too wide for the port (minimumSourcePrefixLength, default /24 and /48)? */
export function sourceWidthIssue(source: string, port: PolicyPort, policyName: string): Issue | undefined {
  if (isWildcardPrefix(source)) return undefined;
  const r = parsePrefix(source);
  if (!r.ok) return undefined;
  const { family, bits } = r.prefix;
  const { minimum } = sourceLimits(port, family);
  if (bits >= minimum) return undefined;
  const key = familyKey(family);
  const widest = SOURCE_LENGTH_BOUNDS[family].widest;
  const msg =
    `${SOURCE_FIELD} ${source} is an ${family} /${bits} (${addresses(family, bits)} addresses), wider than ` +
    `the /${minimum} (${addresses(family, minimum)} addresses) port ${port.number}/${port.protocol} ` +
    `in policy ${policyName} accepts; name a narrower prefix, or have the policy widen the port's ` +
    `minimumSourcePrefixLength.${key} (down to ${widest}) or list a wildcard explicitly`;
  return issue("SourcePrefixTooWide", SOURCE_FIELD, msg);
}
