// Status as a cache, not as authority (ADR 0012). What the operator writes as a decision — a request's
// approval (startTime, expiresAt, status.approved) and a policy's resolved targets (VM IPs and NSG
// ids) — carries an HMAC-SHA256 under a key only the operator holds. Anyone with `*/status` rights can
// write those fields, but not a matching signature, so a forged approval opens nothing and a forged
// resolution aims no write anywhere. Pure: the key is passed in; node:crypto does no I/O.
import { createHmac, createSecretKey, timingSafeEqual } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type {
  AccessRequest,
  AccessRequestStatus,
  ApprovedGrant,
  ResolvedTargetStatus,
} from "../api/types.ts";
import { parseDuration } from "./duration.ts";

/** The operator's signing key and when it came into being (the Secret's server-set creationTimestamp). */
export interface SigningKey {
  key: Uint8Array;
  createdAt: Date;
}

/** Signatures are "v1." + 64 hex digits, so a later scheme can be told apart. */
const VERSION = "v1.";

/** Approvals written before signatures existed are honoured at most this long after the key appeared. */
export const LEGACY_APPROVAL_MAX_MS = 24 * 60 * 60 * 1000;

/**
 * The key as a KeyObject, made once per key: createHmac copies raw key bytes into a new KeyObject on
 * every call, which cost 15.7 us per MAC against 2.3 us (every verification of every grant pays it).
 * The operator's key is read once and never written in place, so the bytes cannot change under it.
 */
const KEY_OBJECTS = new WeakMap<Uint8Array, KeyObject>();

function keyObjectOf(key: Uint8Array): KeyObject {
  let k = KEY_OBJECTS.get(key);
  if (k === undefined) {
    k = createSecretKey(key);
    KEY_OBJECTS.set(key, k);
  }
  return k;
}

function mac(key: Uint8Array, domain: string, payload: unknown): string {
  // JSON of arrays and fixed-order objects built here: unambiguous, whatever the strings hold. The
  // domain keeps a request signature from ever verifying as a policy signature and back.
  return (
    VERSION +
    createHmac("sha256", keyObjectOf(key))
      .update(JSON.stringify([domain, payload]))
      .digest("hex")
  );
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function approvedPayload(a: ApprovedGrant | undefined): unknown {
  if (a === undefined) return null;
  return [a.targets.map(String), a.ports.map((p) => [p.number, p.protocol])];
}

/** What an approval signature covers: the object, the approved window, snapshot and the spec it grants. */
function approvalPayload(request: AccessRequest, status: AccessRequestStatus): unknown {
  const m = request.metadata;
  const s = request.spec;
  return [
    m.uid ?? "",
    m.namespace ?? "",
    m.name ?? "",
    s.policyName,
    s.sourceAddressPrefix,
    [...s.ports],
    s.duration,
    s.targets === undefined ? null : [...s.targets],
    status.startTime ?? "",
    status.expiresAt ?? "",
    approvedPayload(status.approved),
    // Renewal fields only when present: approvals signed before renewals existed still verify.
    ...(status.chainStartTime === undefined && status.renewals === undefined
      ? []
      : [s.supersedes ?? "", status.chainStartTime ?? "", status.renewals ?? 0]),
  ];
}

/** The signature for `status` as the approval of `request` (status.approvalSignature). */
export function signApproval(key: Uint8Array, request: AccessRequest, status: AccessRequestStatus): string {
  return mac(key, "AccessRequest/approval", approvalPayload(request, status));
}

/** Whether the request's status carries an approval signed by `key` over exactly what it says. */
export function verifyApproval(key: Uint8Array, request: AccessRequest): boolean {
  const status = request.status;
  const sig = status?.approvalSignature;
  if (status === undefined || sig === undefined) return false;
  return same(sig, signApproval(key, request, status));
}

/**
 * An approval older than the key (written before signatures existed, or under a key since lost, so
 * signed or not): it started before the key was created, and its
 * grant ends (startTime + spec.duration, capped by expiresAt) within LEGACY_APPROVAL_MAX_MS of it. A
 * forged one can thus never reach past that point, and after it no unsigned approval counts at all.
 */
export function isLegacyApproval(request: AccessRequest, keyCreatedAt: Date): boolean {
  const status = request.status;
  if (status === undefined) return false;
  const start = Date.parse(status.startTime ?? "");
  const stated = Date.parse(status.expiresAt ?? "");
  const duration = parseDuration(request.spec.duration);
  if (Number.isNaN(start) || Number.isNaN(stated) || !duration.ok) return false;
  const created = keyCreatedAt.getTime();
  const end = Math.min(start + duration.ms, stated);
  return start < created && end <= created + LEGACY_APPROVAL_MAX_MS;
}

/** Whether a request's approval was written by the operator (signed, or a bounded legacy one). */
export type ApprovalVerifier = (request: AccessRequest) => boolean;

export function approvalVerifier(k: SigningKey): ApprovalVerifier {
  return (r) => verifyApproval(k.key, r) || isLegacyApproval(r, k.createdAt);
}

function targetsPayload(policyUid: string, targets: readonly ResolvedTargetStatus[]): unknown {
  return [
    policyUid,
    targets.map((t) => [
      t.id,
      t.privateIpAddresses === undefined ? null : [...t.privateIpAddresses],
      t.networkSecurityGroupIds === undefined ? null : [...t.networkSecurityGroupIds],
      t.message ?? null,
    ]),
  ];
}

/** The signature of a policy's resolved targets (status.targetsSignature). */
export function signTargets(
  key: Uint8Array,
  policyUid: string,
  targets: readonly ResolvedTargetStatus[],
): string {
  return mac(key, "JitPolicy/targets", targetsPayload(policyUid, targets));
}

/** Whether status.targets is, as a whole, what the operator resolved for this very policy object. */
export function verifyTargets(
  key: Uint8Array,
  policy: {
    metadata: { uid?: string };
    status?: { targets?: ResolvedTargetStatus[]; targetsSignature?: string };
  },
): boolean {
  const sig = policy.status?.targetsSignature;
  if (sig === undefined) return false;
  return same(sig, signTargets(key, policy.metadata.uid ?? "", policy.status?.targets ?? []));
}
