// The AccessRequest state machine as a pure function: the reconciler gathers the facts (cache, core
// verdict, ledger) and applies what this returns (status, events, finalizer, NSG wake-ups).
import type { AccessRequest, AccessRequestStatus, Condition, GrantRuleStatus } from "../api/types.ts";
import { FINALIZER, TERMINAL_PHASES } from "../api/types.ts";
import type { Verdict } from "../core/types.ts";
import { findCondition, setCondition } from "./conditions.ts";
import type { Reason } from "./ledger.ts";

export interface RequestFacts {
  request: AccessRequest;
  now: Date;
  /** The request checked against its policy (PolicyNotFound when the policy is missing). */
  verdict: Verdict;
  /** Parsed spec.duration in ms (undefined when invalid; the verdict then denies). */
  durationMs: number | undefined;
  /** How many active grants (target x port) the core derives for this request right now. */
  activeGrantCount: number;
  /** Every NSG of every grant carries it; rules lists where. */
  placement: { complete: boolean; rules: GrantRuleStatus[] };
  rejected: Reason | undefined;
  failed: Reason | undefined;
  /** Every NSG of its policy was reconciled after the request stopped being a grant, and none carries it. */
  cleared: boolean;
  retentionMs: number;
  /** Whether the requester admission policy guards the request's namespace; no grant opens where not. */
  guard: { ok: true } | { ok: false; reason: string; message: string };
}

/** How soon an undecided request held for a missing admission guard is looked at again. */
export const GUARD_RECHECK_MS = 30_000;

export interface RecordedEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface RequestDecision {
  /** The full desired status; undefined means leave the status alone. */
  status: AccessRequestStatus | undefined;
  events: RecordedEvent[];
  addFinalizer: boolean;
  removeFinalizer: boolean;
  deleteObject: boolean;
  /** Wake the NSGs of the request's policy (grant added or withdrawn). */
  wakeNsgs: boolean;
  /** Reconcile this request again after this long (expiry, retention). */
  requeueAfterMs: number | undefined;
}

const CLOSED = "Closed";

function none(): RequestDecision {
  return {
    status: undefined,
    events: [],
    addFinalizer: false,
    removeFinalizer: false,
    deleteObject: false,
    wakeNsgs: false,
    requeueAfterMs: undefined,
  };
}

export function isTerminal(phase: string | undefined): boolean {
  return TERMINAL_PHASES.some((p) => p === phase);
}

export function decideRequest(f: RequestFacts): RequestDecision {
  const meta = f.request.metadata;
  const hasFinalizer = (meta.finalizers ?? []).includes(FINALIZER);
  if (meta.deletionTimestamp !== undefined) return decideDeletion(f, hasFinalizer);
  const d = decideLifecycle(f);
  d.addFinalizer = !hasFinalizer;
  return d;
}

function decideDeletion(f: RequestFacts, hasFinalizer: boolean): RequestDecision {
  const d = none();
  if (!hasFinalizer) return d;
  const approved = f.request.status?.startTime !== undefined;
  if (!approved || f.cleared) {
    d.removeFinalizer = true;
    const phase = f.request.status?.phase;
    if (approved && !isTerminal(phase)) {
      d.events.push({ type: "Normal", reason: "Revoked", message: "request deleted; access revoked" });
    }
    return d;
  }
  d.wakeNsgs = true;
  return d;
}

function decideLifecycle(f: RequestFacts): RequestDecision {
  const status = f.request.status ?? {};
  if (isTerminal(status.phase)) return decideRetention(f);
  if (status.startTime === undefined || status.expiresAt === undefined) return decideApproval(f);
  return decideApproved(f, status.expiresAt);
}

function decideRetention(f: RequestFacts): RequestDecision {
  const d = none();
  const closed = findCondition(f.request.status?.conditions, CLOSED);
  const closedAt = Date.parse(closed?.lastTransitionTime ?? f.request.metadata.creationTimestamp ?? "");
  if (Number.isNaN(closedAt)) return d;
  const left = closedAt + f.retentionMs - f.now.getTime();
  if (left <= 0) d.deleteObject = true;
  else d.requeueAfterMs = left;
  return d;
}

function decideApproval(f: RequestFacts): RequestDecision {
  const d = none();
  if (f.request.spec.revoked === true) {
    return close(f, d, "Revoked", "RevokedBeforeApproval", "revoked before it was approved", false);
  }
  if (!f.guard.ok) return holdUnguarded(f, d, f.guard.reason, f.guard.message);
  if (!f.verdict.allowed || f.durationMs === undefined) {
    const reason = f.verdict.allowed ? "InvalidDuration" : f.verdict.reason;
    const message = f.verdict.allowed
      ? `spec.duration ${f.request.spec.duration} is invalid`
      : f.verdict.message;
    return close(f, d, "Denied", reason, message, false);
  }
  const expiresAt = new Date(f.now.getTime() + f.durationMs);
  const gen = f.request.metadata.generation;
  let conditions = setCondition(
    f.request.status?.conditions,
    { type: "Approved", status: "True", reason: "PolicyAllows", message: "allowed by the policy" },
    f.now,
    gen,
  );
  conditions = setCondition(conditions, pendingGranted(), f.now, gen);
  d.status = {
    phase: "Pending",
    startTime: f.now.toISOString(),
    expiresAt: expiresAt.toISOString(),
    observedGeneration: gen,
    conditions,
    rules: [],
    reason: "Approved",
    message: `approved until ${expiresAt.toISOString()}; waiting for the NSG rules`,
  };
  d.events.push({
    type: "Normal",
    reason: "Approved",
    message: `ports ${f.request.spec.ports.join(",")} from ${f.request.spec.sourceAddressPrefix} until ${expiresAt.toISOString()}`,
  });
  d.wakeNsgs = true;
  d.requeueAfterMs = f.durationMs;
  return d;
}

/**
 * Undecided, and it stays so: without the requester admission policy nobody vouches for
 * spec.requester, so the request is neither approved nor denied until the guard is back.
 */
function holdUnguarded(
  f: RequestFacts,
  d: RequestDecision,
  reason: string,
  message: string,
): RequestDecision {
  const gen = f.request.metadata.generation;
  const conditions = setCondition(
    f.request.status?.conditions,
    { type: "Approved", status: "False", reason, message },
    f.now,
    gen,
  );
  d.status = { ...f.request.status, phase: "Pending", observedGeneration: gen, conditions, reason, message };
  if (f.request.status?.reason !== reason) d.events.push({ type: "Warning", reason, message });
  d.requeueAfterMs = GUARD_RECHECK_MS;
  return d;
}

function pendingGranted(): { type: string; status: "False"; reason: string; message: string } {
  return { type: "Granted", status: "False", reason: "Pending", message: "waiting for the NSG rules" };
}

function decideApproved(f: RequestFacts, expiresAtText: string): RequestDecision {
  const d = none();
  const expiresAt = Date.parse(expiresAtText);
  if (f.request.spec.revoked === true) {
    return close(f, d, "Revoked", "RevokedByUser", "spec.revoked set; access revoked", true);
  }
  if (Number.isNaN(expiresAt) || f.now.getTime() >= expiresAt) {
    return close(f, d, "Expired", "Expired", `access expired at ${expiresAtText}`, true);
  }
  if (f.rejected !== undefined) return close(f, d, "Denied", f.rejected.reason, f.rejected.message, true);
  if (f.failed !== undefined) return close(f, d, "Failed", f.failed.reason, f.failed.message, true);
  if (f.activeGrantCount === 0) {
    const message = f.verdict.allowed ? "the policy no longer covers this request" : f.verdict.message;
    return close(f, d, "Revoked", "PolicyChanged", message, true);
  }
  d.requeueAfterMs = expiresAt - f.now.getTime();
  const status = f.request.status ?? {};
  const wasActive = status.phase === "Active";
  if (!f.placement.complete && !wasActive) return d;
  const gen = f.request.metadata.generation;
  const conditions = setCondition(
    status.conditions,
    {
      type: "Granted",
      status: "True",
      reason: "RulesInPlace",
      message: "every target NSG carries the grant",
    },
    f.now,
    gen,
  );
  d.status = {
    ...status,
    phase: "Active",
    observedGeneration: gen,
    conditions,
    rules: f.placement.complete ? f.placement.rules : (status.rules ?? []),
    reason: "Granted",
    message: `access open until ${expiresAtText}`,
  };
  if (!wasActive) {
    d.events.push({
      type: "Normal",
      reason: "Granted",
      message: `${f.placement.rules.length} NSG rule(s) carry the grant until ${expiresAtText}`,
    });
  }
  return d;
}

type ClosingPhase = "Expired" | "Revoked" | "Denied" | "Failed";

function close(
  f: RequestFacts,
  d: RequestDecision,
  phase: ClosingPhase,
  reason: string,
  message: string,
  wasApproved: boolean,
): RequestDecision {
  const gen = f.request.metadata.generation;
  let conditions: Condition[] = f.request.status?.conditions ?? [];
  if (phase === "Denied" && !wasApproved) {
    conditions = setCondition(conditions, { type: "Approved", status: "False", reason, message }, f.now, gen);
  }
  conditions = setCondition(conditions, { type: "Granted", status: "False", reason, message }, f.now, gen);
  conditions = setCondition(conditions, { type: CLOSED, status: "True", reason: phase, message }, f.now, gen);
  d.status = { ...f.request.status, phase, observedGeneration: gen, conditions, rules: [], reason, message };
  const warning = phase === "Denied" || phase === "Failed";
  d.events.push({ type: warning ? "Warning" : "Normal", reason: phase, message: `${reason}: ${message}` });
  d.wakeNsgs = wasApproved;
  d.requeueAfterMs = f.retentionMs;
  return d;
}
