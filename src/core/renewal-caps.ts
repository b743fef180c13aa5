// The policy's renewal caps (ADR 0013), checked like the rest of the policy spec: maxTotalDuration
// PT1M..P7D, maxRenewals 0..100, both optional.
import { checkDuration, checkInteger } from "./checks.ts";
import type { Issue } from "./types.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export const RENEWAL_BOUNDS = { totalMinMs: MINUTE, totalMaxMs: 7 * DAY, maxRenewals: 100 } as const;

export function renewalCapIssues(spec: Record<string, unknown>): Issue[] {
  const out: (Issue | undefined)[] = [];
  if (spec["maxTotalDuration"] !== undefined) {
    const bounds = {
      minMs: RENEWAL_BOUNDS.totalMinMs,
      maxMs: RENEWAL_BOUNDS.totalMaxMs,
      tooShort: "InvalidDuration",
      tooLong: "InvalidDuration",
    };
    out.push(checkDuration(spec["maxTotalDuration"], "spec.maxTotalDuration", bounds).issue);
  }
  if (spec["maxRenewals"] !== undefined) {
    const range = { min: 0, max: RENEWAL_BOUNDS.maxRenewals };
    out.push(checkInteger(spec["maxRenewals"], "spec.maxRenewals", "InvalidMaxRenewals", range));
  }
  return out.filter((i) => i !== undefined);
}
