// Which grants must be in the NSGs right now. A grant exists only while its request is approved
// (startTime set, phase Pending or Active), not revoked, not being deleted, unexpired, and still
// allowed by the *current* policy: a port or target dropped from the policy closes its grants.
// It is also bound to what was approved (status.approved): a target added to the policy later, or a
// port's protocol widened later, never opens for a request approved before. Requests approved
// without that record (before it existed) are bound by the current policy alone. And it counts only
// when `isAuthentic` vouches for the approval (the operator's signature, approval-signature.ts): a
// status anyone with `*/status` rights wrote is a cache, never an approval (ADR 0012).
import type { AccessRequest, ApprovedGrant, ApprovedPort, JitPolicy, Protocol } from "../api/types.ts";
import type { ApprovalVerifier } from "./approval-signature.ts";
import { isWildcardPrefix, normalizePrefix } from "./cidr.ts";
import { objectKey, policyKeyOf } from "./keys.ts";
import { parseDuration } from "./duration.ts";
import type { ActiveGrants, Grant } from "./types.ts";
import { policySpecIssues } from "./request-checks.ts";
import { effectivePolicySpec } from "./validate-policy.ts";
import {
  durationIssue,
  policyLabel,
  portEntries,
  requestShapeIssues,
  sourceIssue,
} from "./validate-request.ts";

/** startTime + duration, capped by status.expiresAt; undefined when either is unreadable. */
export function grantExpiry(request: AccessRequest): Date | undefined {
  const start = Date.parse(request.status?.startTime ?? "");
  const duration = parseDuration(request.spec.duration);
  if (Number.isNaN(start) || !duration.ok) return undefined;
  let end = start + duration.ms;
  const stated = request.status?.expiresAt;
  if (stated !== undefined) {
    const parsed = Date.parse(stated);
    if (Number.isNaN(parsed)) return undefined;
    end = Math.min(end, parsed);
  }
  return new Date(end);
}

function isApprovedAndLive(request: AccessRequest): boolean {
  const phase = request.status?.phase;
  return (
    request.status?.startTime !== undefined &&
    (phase === "Pending" || phase === "Active") &&
    request.spec.revoked !== true &&
    request.metadata.deletionTimestamp === undefined
  );
}

/** The policy's target ids (as the policy writes them) that the request opens. */
function requestedTargets(request: AccessRequest, policy: JitPolicy): string[] | undefined {
  const ids = effectivePolicySpec(policy.spec).targets.map(
    (t) => t.virtualMachineId ?? t.networkSecurityGroupId ?? "",
  );
  if (request.spec.targets === undefined) return ids;
  const out: string[] = [];
  for (const wanted of request.spec.targets) {
    const match = ids.find((id) => id.toLowerCase() === wanted.toLowerCase());
    if (match === undefined) return undefined; // a target left the policy: the whole request closes
    out.push(match);
  }
  return out;
}

/**
 * What approving `request` under `policy` now binds its grant to (status.approved): the targets it
 * opens and, per requested port, the protocols the policy lists for it. Undefined when a requested
 * target is not in the policy (such a request is never approved).
 */
export function approvalSnapshot(request: AccessRequest, policy: JitPolicy): ApprovedGrant | undefined {
  const targets = requestedTargets(request, policy);
  if (targets === undefined) return undefined;
  const ports: ApprovedPort[] = [];
  for (const number of new Set(request.spec.ports)) {
    for (const entry of portEntries(policy, number)) {
      if (!ports.some((p) => p.number === number && p.protocol === entry.protocol)) {
        ports.push({ number, protocol: entry.protocol });
      }
    }
  }
  return { targets, ports };
}

/** The narrower of two protocols (Any covers TCP and UDP), or undefined when they share nothing. */
export function narrowerProtocol(a: Protocol, b: Protocol): Protocol | undefined {
  if (a === b || b === "Any") return a;
  return a === "Any" ? b : undefined;
}

/** The current targets the approval covered too (ARM ids compare case-insensitively). */
function approvedTargets(current: string[], approved: ApprovedGrant | undefined): string[] {
  if (approved === undefined) return current;
  const lower = new Set(approved.targets.map((t) => t.toLowerCase()));
  return current.filter((id) => lower.has(id.toLowerCase()));
}

/** The protocols a port opens: the policy's now, each narrowed to what the approval gave that port. */
function approvedProtocols(
  current: Protocol,
  number: number,
  approved: ApprovedGrant | undefined,
): Protocol[] {
  if (approved === undefined) return [current];
  const out: Protocol[] = [];
  for (const p of approved.ports) {
    if (p.number !== number) continue;
    const narrowed = narrowerProtocol(current, p.protocol);
    if (narrowed !== undefined && !out.includes(narrowed)) out.push(narrowed);
  }
  return out;
}

function grantsOf(request: AccessRequest, policy: JitPolicy, expiresAt: Date): Grant[] {
  const requested = requestedTargets(request, policy);
  if (requested === undefined) return [];
  // The record is read as a bound only: forged or stale, it can narrow the grant, never widen it
  // beyond what the current policy allows.
  const approved = request.status?.approved;
  const targets = approvedTargets(requested, approved);
  const source = request.spec.sourceAddressPrefix;
  const sourcePrefix = isWildcardPrefix(source) ? source : normalizePrefix(source);
  const durationMs = parseDuration(request.spec.duration);
  if (sourcePrefix === undefined || !durationMs.ok || targets.length === 0) return [];
  const name = policyLabel(policy);
  const out: Grant[] = [];
  const seen = new Set<string>();
  for (const number of new Set(request.spec.ports)) {
    for (const entry of portEntries(policy, number)) {
      if (sourceIssue(source, entry, name) !== undefined) continue;
      if (durationIssue(durationMs.ms, request.spec.duration, entry, name) !== undefined) continue;
      for (const protocol of approvedProtocols(entry.protocol, number, approved)) {
        // Two policy entries of one port (TCP and Any) may narrow to the same protocol.
        if (seen.has(`${number}/${protocol}`)) continue;
        seen.add(`${number}/${protocol}`);
        for (const targetId of targets) {
          out.push({
            requestKey: objectKey(request.metadata),
            policyKey: objectKey(policy.metadata),
            targetId,
            port: number,
            protocol,
            sourcePrefix,
            expiresAt,
          });
        }
      }
    }
  }
  return out;
}

/** The order of grants everywhere: policy, target, request, port, protocol. */
export function compareGrants(a: Grant, b: Grant): number {
  const ka = `${a.policyKey}\n${a.targetId}\n${a.requestKey}`;
  const kb = `${b.policyKey}\n${b.targetId}\n${b.requestKey}`;
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0);
}

/**
 * The grants that must be in NSGs at `now`, sorted, and the earliest expiry among them. The operator
 * always passes `isAuthentic` (approvalVerifier of its key); the default trusts every status and is
 * for callers that reason about policy and request shapes alone (the bench's planner model, tests).
 */
export function activeGrants(
  policies: JitPolicy[],
  requests: AccessRequest[],
  now: Date,
  isAuthentic: ApprovalVerifier = () => true,
): ActiveGrants {
  const valid = new Map<string, JitPolicy>();
  for (const p of policies) {
    if (policySpecIssues(p).length === 0) valid.set(objectKey(p.metadata), p);
  }
  const grants: Grant[] = [];
  let next: number | undefined;
  for (const request of requests) {
    const policy = valid.get(policyKeyOf(request));
    const held = policy === undefined ? undefined : heldGrants(request, policy, isAuthentic);
    if (held === undefined || held.expiresAt.getTime() <= now.getTime()) continue;
    if (held.grants.length > 0) next = Math.min(next ?? Infinity, held.expiresAt.getTime());
    grants.push(...held.grants);
  }
  grants.sort(compareGrants);
  return { grants, nextExpiry: next === undefined ? undefined : new Date(next) };
}

/**
 * Every grant one request holds under its policy whatever the time, sorted: what activeGrants
 * returns for it at any `now` before its expiry. The grant index keeps these per request and
 * filters by time when it reads.
 */
export function requestGrants(
  request: AccessRequest,
  policy: JitPolicy,
  isAuthentic: ApprovalVerifier = () => true,
): Grant[] {
  if (objectKey(policy.metadata) !== policyKeyOf(request) || policySpecIssues(policy).length > 0) return [];
  const held = heldGrants(request, policy, isAuthentic);
  return held === undefined ? [] : held.grants.sort(compareGrants);
}

/** The one "is this grant live" rule, time aside: approved and live, well-formed, authentic, with an expiry. */
function heldGrants(
  request: AccessRequest,
  policy: JitPolicy,
  isAuthentic: ApprovalVerifier,
): { grants: Grant[]; expiresAt: Date } | undefined {
  if (!isApprovedAndLive(request) || requestShapeIssues(request.spec).length > 0) return undefined;
  if (!isAuthentic(request)) return undefined;
  const expiresAt = grantExpiry(request);
  if (expiresAt === undefined) return undefined;
  return { grants: grantsOf(request, policy, expiresAt), expiresAt };
}
