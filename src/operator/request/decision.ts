// The AccessRequest state machine as a pure function: the reconciler gathers the facts (cache, core
// verdict, ledger) and applies what this returns (status, events, finalizer, NSG wake-ups).
import type {
  AccessRequest,
  AccessRequestStatus,
  ApprovedGrant,
  Condition,
  GrantRuleStatus,
} from "../../api/types.ts";
import { FINALIZER } from "../../api/types.ts";
import type { RenewalVerdict } from "../../core/renewal.ts";
import { isTerminal } from "../../core/phases.ts";
import type { RecordedEvent } from "../../kube/events.ts";
import type { Verdict } from "../../core/types.ts";
import { findCondition, setCondition } from "../../kube/conditions.ts";
import type { Reason } from "../state/ledger.ts";
import type { OpenCounts } from "../state/open-index.ts";
import { AWAITING_APPROVAL, approvalStep } from "../approval/gate.ts";
import type { ApprovalFacts } from "../approval/gate.ts";

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
  /** How long Expired, Revoked and Failed requests are kept. */
  retentionMs: number;
  /** How long Denied requests, and requests closed before approval, are kept (cheap to make in bulk). */
  deniedRetentionMs: number;
  limits: RequestLimits;
  /** Open requests that count against this one's limits; called only when an approval is decided. */
  openAhead(): OpenCounts;
  /** Whether the requester admission policy guards the request's namespace; no grant opens where not. */
  guard: { ok: true } | { ok: false; reason: string; message: string };
  /**
   * What an approval now binds the grant to (core approvalSnapshot of the live policy), written to
   * status.approved; called only when an approval is decided. Absent: the status records nothing and
   * the grant follows the current policy alone.
   */
  approvedSnapshot?(): ApprovedGrant | undefined;
  /**
   * Whether the status's approval (startTime, expiresAt, approved) verifies against the operator's key
   * (ADR 0012). false: someone else wrote it, and the request is closed without ever opening. The
   * operator always sets it; undefined (pure tests of other parts) means not checked.
   */
  authentic?: boolean;
  /** The operator's signature over an approval status for this request, written with it. */
  signApproval?(status: AccessRequestStatus): string;
  /** For a request naming spec.supersedes: whether it may renew that grant (ADR 0013); called on approval. */
  renewal?(): RenewalVerdict;
  /** The name of an Active renewal that carries this request's grant on; the request is then Superseded. */
  supersededBy?: string;
  /**
   * The request's approvals counted against its policy's approval rule; undefined when the policy
   * approves automatically (required 0). Called only for an undecided request.
   */
  approval?(): ApprovalFacts | undefined;
}

/** Open (Pending or Active) requests one requester, and one namespace, may hold. */
export interface RequestLimits {
  perRequester: number;
  perNamespace: number;
}

export type { OpenCounts };

/** At most this many entries of status.rules are written (the CRD's maxItems); the message counts all. */
export const STATUS_RULES_MAX = 100;

/**
 * The open requests that count against `request`'s limits: every other open one already approved,
 * and every other undecided one that comes first (older creationTimestamp, then namespace and name).
 * Which request of a burst loses is thus fixed by the objects alone, whatever order they are
 * reconciled in and however often: two undecided requests never both count each other out, and an
 * approved one always counts (`approving` names approvals whose status write is still in flight,
 * so a request created meanwhile cannot slip past them). Undecided requests that can never open
 * (being deleted, or revoked) do not count.
 */
export function countOpenAhead(
  request: AccessRequest,
  all: Iterable<AccessRequest>,
  approving: (o: AccessRequest) => boolean = () => false,
): OpenCounts {
  const counts: OpenCounts = { requester: 0, namespace: 0 };
  const me = request.metadata;
  for (const o of all) {
    const m = o.metadata;
    if (notCounted(o, request)) continue;
    const sameRequester = o.spec.requester === request.spec.requester;
    const sameNamespace = m.namespace === me.namespace;
    if (!sameRequester && !sameNamespace) continue;
    const approved = o.status?.startTime !== undefined || approving(o);
    if (!approved && !undecidedAhead(o, request)) continue;
    if (sameRequester) counts.requester++;
    if (sameNamespace) counts.namespace++;
  }
  return counts;
}

/** Itself, closed requests, and the request a renewal carries on (one open grant, not two). */
function notCounted(o: AccessRequest, me: AccessRequest): boolean {
  if (o.metadata.namespace === me.metadata.namespace) {
    if (o.metadata.name === me.metadata.name || o.metadata.name === me.spec.supersedes) return true;
  }
  return isTerminal(o.status?.phase);
}

/** An undecided request that will be decided before `me` and may still open. */
function undecidedAhead(o: AccessRequest, me: AccessRequest): boolean {
  if (o.metadata.deletionTimestamp !== undefined || o.spec.revoked === true) return false;
  return compareAge(o, me) < 0;
}

function compareAge(a: AccessRequest, b: AccessRequest): number {
  const ka = [a.metadata.creationTimestamp ?? "", a.metadata.namespace ?? "", a.metadata.name ?? ""];
  const kb = [b.metadata.creationTimestamp ?? "", b.metadata.namespace ?? "", b.metadata.name ?? ""];
  for (let i = 0; i < ka.length; i++) {
    const x = ka[i] ?? "";
    const y = kb[i] ?? "";
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The limit an undecided request would break, as a Denied reason and message; undefined when none. */
function limitBroken(f: RequestFacts): { reason: string; message: string } | undefined {
  const open = f.openAhead();
  const spec = f.request.spec;
  if (open.requester >= f.limits.perRequester) {
    return {
      reason: "RequesterLimitExceeded",
      message: `requester ${spec.requester} already holds ${open.requester} open AccessRequests (Pending or Active); the limit is ${f.limits.perRequester} (--max-open-requests-per-requester); revoke one or wait for one to expire, then ask again`,
    };
  }
  if (open.namespace >= f.limits.perNamespace) {
    return {
      reason: "NamespaceLimitExceeded",
      message: `namespace ${f.request.metadata.namespace ?? ""} already holds ${open.namespace} open AccessRequests (Pending or Active); the limit is ${f.limits.perNamespace} (--max-open-requests-per-namespace); revoke one or wait for one to expire, then ask again`,
    };
  }
  return undefined;
}

/** How long a closed request is kept: requests that never opened, or were refused, only briefly. */
export function retentionOf(f: RequestFacts, status: AccessRequestStatus): number {
  const neverOpened = status.startTime === undefined;
  return status.phase === "Denied" || neverOpened ? f.deniedRetentionMs : f.retentionMs;
}

/** How soon an undecided request held for a missing admission guard is looked at again. */
export const GUARD_RECHECK_MS = 30_000;

export type { RecordedEvent };

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
  if (f.supersededBy !== undefined && f.authentic !== false && f.request.spec.revoked !== true) {
    const message = `renewed by AccessRequest ${f.supersededBy}, which is Active and carries the grant on`;
    return close(f, none(), "Superseded", "Superseded", message, true);
  }
  return decideApproved(f, status.expiresAt);
}

function decideRetention(f: RequestFacts): RequestDecision {
  const d = none();
  const closed = findCondition(f.request.status?.conditions, CLOSED);
  const closedAt = Date.parse(closed?.lastTransitionTime ?? f.request.metadata.creationTimestamp ?? "");
  if (Number.isNaN(closedAt)) return d;
  const left = closedAt + retentionOf(f, f.request.status ?? {}) - f.now.getTime();
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
  const refused = verdictDenial(f);
  if (refused !== undefined || f.durationMs === undefined) {
    const r = refused ?? {
      reason: "InvalidDuration",
      message: `spec.duration ${f.request.spec.duration} is invalid`,
    };
    return close(f, d, "Denied", r.reason, r.message, false);
  }
  const chain = renewalChain(f);
  if (!chain.ok) return close(f, d, "Denied", chain.reason, chain.message, false);
  // People approve before limits are counted: a request waiting for them holds no grant yet.
  const gate = f.approval?.();
  const held = decideGate(f, d, gate);
  if (held !== undefined) return held;
  const over = limitBroken(f);
  if (over !== undefined) return close(f, d, "Denied", over.reason, over.message, false);
  const expiresAt = new Date(f.now.getTime() + f.durationMs);
  const gen = f.request.metadata.generation;
  let conditions = setCondition(
    f.request.status?.conditions,
    { type: "Approved", status: "True", reason: "PolicyAllows", message: "allowed by the policy" },
    f.now,
    gen,
  );
  conditions = setCondition(conditions, pendingGranted(), f.now, gen);
  conditions = approvedByPeople(conditions, gate, f.now, gen);
  const approved = f.approvedSnapshot?.();
  const status: AccessRequestStatus = {
    phase: "Pending",
    startTime: f.now.toISOString(),
    expiresAt: expiresAt.toISOString(),
    observedGeneration: gen,
    conditions,
    rules: [],
    reason: "Approved",
    message: `approved until ${expiresAt.toISOString()}; waiting for the NSG rules`,
    // The targets and protocols approved now: a later policy edit can narrow the grant, not widen it.
    ...(approved === undefined ? {} : { approved }),
    ...(chain.renewals === undefined
      ? {}
      : { chainStartTime: chain.chainStartTime, renewals: chain.renewals }),
    ...approvalFields(gate),
  };
  // Signed over what it says: only this operator's approvals ever count as grants.
  if (f.signApproval !== undefined) status.approvalSignature = f.signApproval(status);
  d.status = status;
  d.events.push({
    type: "Normal",
    reason: "Approved",
    message: `ports ${f.request.spec.ports.join(",")} from ${f.request.spec.sourceAddressPrefix} until ${expiresAt.toISOString()}`,
  });
  d.wakeNsgs = true;
  d.requeueAfterMs = f.durationMs;
  return d;
}

/** Waiting for approvers, rejected or timed out; undefined when the approvals suffice. */
function decideGate(
  f: RequestFacts,
  d: RequestDecision,
  gate: ApprovalFacts | undefined,
): RequestDecision | undefined {
  if (gate === undefined) return undefined;
  const step = approvalStep(f.request, gate, f.now);
  if (step.kind === "close") {
    const closed = close(f, d, step.phase, step.reason, step.message, false);
    if (closed.status !== undefined) {
      closed.status = {
        ...closed.status,
        approvals: gate.tally.records,
        approvalSummary: gate.tally.summary,
      };
    }
    return closed;
  }
  if (step.kind === "approve") return undefined;
  d.status = step.status;
  d.events.push(...step.events);
  d.requeueAfterMs = step.requeueAfterMs;
  return d;
}

/** status.approvals and status.approvalSummary; nothing when approval is automatic. */
function approvalFields(
  gate: ApprovalFacts | undefined,
): Pick<AccessRequestStatus, "approvals" | "approvalSummary"> {
  return gate === undefined ? {} : { approvals: gate.tally.records, approvalSummary: gate.tally.summary };
}

/** The conditions of an approval the policy left to people (unchanged when automatic). */
function approvedByPeople(
  conditions: Condition[],
  gate: ApprovalFacts | undefined,
  now: Date,
  gen: number | undefined,
): Condition[] {
  if (gate === undefined) return conditions;
  const message = `${gate.tally.summary} approvals`;
  const approved = { type: "Approved", status: "True" as const, reason: "ApproversApproved", message };
  const waited = { type: AWAITING_APPROVAL, status: "False" as const, reason: "Approved", message };
  return setCondition(setCondition(conditions, approved, now, gen), waited, now, gen);
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

/** A renewal's chain facts, or the denial; a request that renews nothing passes with none. */
function verdictDenial(f: RequestFacts): { reason: string; message: string } | undefined {
  return f.verdict.allowed ? undefined : { reason: f.verdict.reason, message: f.verdict.message };
}

function renewalChain(
  f: RequestFacts,
): { ok: true; chainStartTime?: string; renewals?: number } | { ok: false; reason: string; message: string } {
  if (f.request.spec.supersedes === undefined) return { ok: true };
  // Deny when unchecked: a renewal is approved only on a positive answer.
  return (
    f.renewal?.() ?? { ok: false, reason: "RenewalUnchecked", message: "the renewal could not be checked" }
  );
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
  if (f.authentic === false) {
    // Written by someone with status rights, not by the operator: nothing opened for it (grants need
    // the signature), and the record says so instead of claiming an approval.
    const message =
      "status.startTime/expiresAt/approved were not written by the operator (status.approvalSignature does not verify); no access is granted";
    return close(f, d, "Denied", "ApprovalNotAuthentic", message, true);
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
  const granted = grantedStatus(
    status,
    f.placement.complete ? f.placement.rules : (status.rules ?? []),
    expiresAtText,
    f.now,
    f.request.metadata.generation,
  );
  d.status = granted.status;
  if (!wasActive) d.events.push(granted.event);
  return d;
}

/**
 * `approved` (an approval status, or an Active one refreshed) as Active: every NSG of the grant
 * carries `rules`. The Granted condition keeps its own lastTransitionTime (now when it turns True),
 * apart from the approval's.
 */
export function grantedStatus(
  approved: AccessRequestStatus,
  rules: GrantRuleStatus[],
  expiresAtText: string,
  now: Date,
  gen: number | undefined,
): { status: AccessRequestStatus; event: RecordedEvent } {
  const listed = listedRules(rules);
  const conditions = setCondition(
    approved.conditions,
    {
      type: "Granted",
      status: "True",
      reason: "RulesInPlace",
      message: `every target NSG carries the grant${listed.note}`,
    },
    now,
    gen,
  );
  const status: AccessRequestStatus = {
    ...approved,
    phase: "Active",
    observedGeneration: gen,
    conditions,
    rules: listed.rules,
    reason: "Granted",
    message: `access open until ${expiresAtText}${listed.note}`,
  };
  const event: RecordedEvent = {
    type: "Normal",
    reason: "Granted",
    message: `${rules.length} NSG rule(s) carry the grant until ${expiresAtText}`,
  };
  return { status, event };
}

/**
 * status.rules as written: at most STATUS_RULES_MAX entries, so the status patch stays within the
 * CRD's maxItems (a request without targets under a large policy carries thousands of rules); the
 * note says how many there are when some are left out.
 */
export function listedRules(rules: GrantRuleStatus[]): { rules: GrantRuleStatus[]; note: string } {
  if (rules.length <= STATUS_RULES_MAX) return { rules, note: "" };
  return {
    rules: rules.slice(0, STATUS_RULES_MAX),
    note: ` (${rules.length} NSG rules; status.rules lists the first ${STATUS_RULES_MAX})`,
  };
}

type ClosingPhase = "Expired" | "Revoked" | "Denied" | "Failed" | "Superseded" | "TimedOut";

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
  if ((phase === "Denied" || phase === "TimedOut") && !wasApproved) {
    conditions = setCondition(conditions, { type: "Approved", status: "False", reason, message }, f.now, gen);
  }
  conditions = setCondition(conditions, { type: "Granted", status: "False", reason, message }, f.now, gen);
  if (findCondition(conditions, AWAITING_APPROVAL)?.status === "True") {
    const c = { type: AWAITING_APPROVAL, status: "False" as const, reason, message };
    conditions = setCondition(conditions, c, f.now, gen);
  }
  conditions = setCondition(conditions, { type: CLOSED, status: "True", reason: phase, message }, f.now, gen);
  d.status = { ...f.request.status, phase, observedGeneration: gen, conditions, rules: [], reason, message };
  const warning = phase === "Denied" || phase === "Failed" || phase === "TimedOut";
  d.events.push({ type: warning ? "Warning" : "Normal", reason: phase, message: `${reason}: ${message}` });
  d.wakeNsgs = wasApproved;
  d.requeueAfterMs = retentionOf(f, d.status);
  return d;
}
