// Renewal by a superseding request (ADR 0013). A request naming spec.supersedes carries an Active
// grant on: it is approved only when the older one is Active, authentic and asks for exactly the same
// thing, so a renewal can lengthen access (within the policy's caps) but never widen it. The chain's
// original start and its renewal count go into the newer request's signed approval, so deleting the
// older request later changes nothing. Pure: the reconciler passes in what the cache holds.
import type { AccessRequest, ApprovedGrant, JitPolicy } from "../api/types.ts";
import { parseDuration, formatDuration } from "./duration.ts";
import { narrowerProtocol } from "./grants.ts";

export type RenewalVerdict =
  { ok: true; chainStartTime: string; renewals: number } | { ok: false; reason: string; message: string };

export interface RenewalFacts {
  request: AccessRequest;
  /** The request spec.supersedes names, from the same namespace; undefined when there is none. */
  older: AccessRequest | undefined;
  /** Whether the older request's approval carries the operator's signature (ADR 0012). */
  olderAuthentic: boolean;
  /** Another request naming the same older one that was already approved (a fork), if any. */
  rival: string | undefined;
  policy: JitPolicy;
  now: Date;
  durationMs: number;
}

function deny(reason: string, message: string): RenewalVerdict {
  return { ok: false, reason, message };
}

function sameSet<T>(
  a: readonly T[] | undefined,
  b: readonly T[] | undefined,
  key: (x: T) => string,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  const x = new Set(a.map(key));
  const y = new Set(b.map(key));
  return x.size === y.size && [...x].every((v) => y.has(v));
}

/** The first spec field the renewal differs in from the older request, or undefined when none. */
export function renewalMismatch(newer: AccessRequest, older: AccessRequest): string | undefined {
  const n = newer.spec;
  const o = older.spec;
  if (n.requester !== o.requester) return "requester";
  if (n.policyName !== o.policyName) return "policyName";
  if (!sameSet(n.targets, o.targets, (t) => t.toLowerCase())) return "targets";
  if (!sameSet(n.ports, o.ports, String)) return "ports";
  if (n.sourceAddressPrefix !== o.sourceAddressPrefix) return "sourceAddressPrefix";
  return undefined;
}

/** Whether `request` may renew the grant of `older`, and if so the chain facts its approval records. */
export function decideRenewal(f: RenewalFacts): RenewalVerdict {
  const name = f.request.spec.supersedes ?? "";
  const ns = f.request.metadata.namespace ?? "";
  const older = f.older;
  if (name === f.request.metadata.name) {
    return deny("InvalidSupersedes", `spec.supersedes names this request itself (${name})`);
  }
  if (older === undefined) {
    return deny(
      "SupersededNotFound",
      `spec.supersedes: AccessRequest ${name} does not exist in namespace ${ns}`,
    );
  }
  const status = older.status;
  if (!isOpen(older, f.olderAuthentic, f.now) || status?.startTime === undefined) {
    const phase = status?.phase ?? "Pending";
    return deny(
      "SupersededNotActive",
      `spec.supersedes: AccessRequest ${name} is ${phase}, not Active; only an open grant can be renewed (ask anew instead)`,
    );
  }
  const field = renewalMismatch(f.request, older);
  if (field !== undefined) {
    return deny(
      "RenewalMismatch",
      `spec.${field} differs from AccessRequest ${name}; a renewal must ask for the same requester, policyName, targets, ports and sourceAddressPrefix`,
    );
  }
  if (f.rival !== undefined) {
    return deny(
      "AlreadySuperseded",
      `spec.supersedes: AccessRequest ${name} is already renewed by ${f.rival}`,
    );
  }
  return withinCaps(f, status.chainStartTime ?? status.startTime, (status.renewals ?? 0) + 1);
}

/** The policy's renewal caps: how many renewals, and how long from the chain's original start. */
function withinCaps(f: RenewalFacts, chainStartTime: string, renewals: number): RenewalVerdict {
  const max = f.policy.spec.maxRenewals;
  if (max !== undefined && renewals > max) {
    return deny(
      "RenewalLimitExceeded",
      `this would be renewal ${renewals} of the grant; policy ${f.policy.metadata.name ?? ""} allows at most ${max} (spec.maxRenewals)`,
    );
  }
  const cap = capIssue(f, chainStartTime);
  if (cap !== undefined) return deny("RenewalExceedsMaxTotal", cap);
  return { ok: true, chainStartTime, renewals };
}

/** Active, approved by the operator, not revoked or being deleted, and not yet expired. */
function isOpen(older: AccessRequest, authentic: boolean, now: Date): boolean {
  const status = older.status;
  if (status?.phase !== "Active" || !authentic) return false;
  if (older.spec.revoked === true || older.metadata.deletionTimestamp !== undefined) return false;
  return now.getTime() < Date.parse(status.expiresAt ?? "");
}

function capIssue(f: RenewalFacts, chainStartTime: string): string | undefined {
  const text = f.policy.spec.maxTotalDuration;
  if (text === undefined) return undefined;
  const total = parseDuration(text);
  const start = Date.parse(chainStartTime);
  if (!total.ok || Number.isNaN(start)) {
    return `policy ${f.policy.metadata.name ?? ""} spec.maxTotalDuration ${text} or the chain start ${chainStartTime} is unreadable; no renewal is approved`;
  }
  const end = f.now.getTime() + f.durationMs;
  const limit = start + total.ms;
  if (end <= limit) return undefined;
  const left = Math.max(0, limit - f.now.getTime());
  return (
    `spec.duration ${f.request.spec.duration} would keep access open until ${new Date(end).toISOString()}, past the ` +
    `maximum ${text} of policy ${f.policy.metadata.name ?? ""} (spec.maxTotalDuration) counted from the original start ` +
    `${chainStartTime}; at most ${formatDuration(left)} is left`
  );
}

/**
 * A renewal's approval snapshot: the live policy's, narrowed to what the older approval held, so a
 * target or protocol added to the policy since never reaches a grant through renewal.
 */
export function narrowToOlder(
  live: ApprovedGrant | undefined,
  older: ApprovedGrant | undefined,
): ApprovedGrant | undefined {
  if (live === undefined || older === undefined) return live ?? older;
  const lower = new Set(older.targets.map((t) => t.toLowerCase()));
  const targets = live.targets.filter((t) => lower.has(t.toLowerCase()));
  const ports: ApprovedGrant["ports"] = [];
  for (const p of live.ports) {
    for (const o of older.ports) {
      if (o.number !== p.number) continue;
      const protocol = narrowerProtocol(p.protocol, o.protocol);
      if (protocol !== undefined && !ports.some((q) => q.number === p.number && q.protocol === protocol)) {
        ports.push({ number: p.number, protocol });
      }
    }
  }
  return { targets, ports };
}
