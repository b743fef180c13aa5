// The approval step of an undecided AccessRequest, as data for decideRequest: wait (phase Pending,
// condition AwaitingApproval), close (Denied on an eligible rejection, TimedOut at the deadline), or
// go on to approve. Pure.
import type { AccessRequest, AccessRequestStatus, ApprovalRecord } from "../../api/types.ts";
import { IGNORED_REASONS } from "../../core/approval-tally.ts";
import type { ApprovalTally } from "../../core/approval-tally.ts";
import { setCondition } from "../../kube/conditions.ts";
import type { RecordedEvent } from "../../kube/events.ts";

export const AWAITING_APPROVAL = "AwaitingApproval";

/** What the reconciler learns about a request whose policy requires approval. */
export interface ApprovalFacts {
  tally: ApprovalTally;
  /** Epoch ms: creationTimestamp + the rule's timeout. */
  deadlineMs: number;
}

export type GateStep =
  | { kind: "approve" }
  | { kind: "close"; phase: "Denied" | "TimedOut"; reason: string; message: string }
  | { kind: "wait"; status: AccessRequestStatus; events: RecordedEvent[]; requeueAfterMs: number };

function describeIgnored(records: readonly ApprovalRecord[]): string {
  const ignored = records.filter((r) => !r.counted);
  if (ignored.length === 0) return "";
  const parts = ignored.map(
    (r) => `${r.approver}: ${r.reason ?? ""} (${IGNORED_REASONS[r.reason ?? ""] ?? ""})`,
  );
  return `; not counted: ${parts.join("; ")}`;
}

export function approvalStep(request: AccessRequest, facts: ApprovalFacts, now: Date): GateStep {
  const { tally, deadlineMs } = facts;
  const o = tally.outcome;
  if (o.kind === "rejected") {
    const comment = o.comment === undefined ? "" : `: ${o.comment}`;
    return { kind: "close", phase: "Denied", reason: "Rejected", message: `rejected by ${o.by}${comment}` };
  }
  if (o.kind === "approved") return { kind: "approve" };
  const deadline = new Date(deadlineMs).toISOString();
  if (now.getTime() >= deadlineMs) {
    const message = `${tally.summary} approvals by ${deadline} (spec.approval.timeout); nothing was opened`;
    return { kind: "close", phase: "TimedOut", reason: "ApprovalTimedOut", message };
  }
  const prev = request.status ?? {};
  const gen = request.metadata.generation;
  const message = `${tally.summary} approvals; waits until ${deadline}${describeIgnored(tally.records)}`;
  let conditions = setCondition(
    prev.conditions,
    { type: AWAITING_APPROVAL, status: "True", reason: AWAITING_APPROVAL, message },
    now,
    gen,
  );
  conditions = setCondition(
    conditions,
    { type: "Approved", status: "False", reason: AWAITING_APPROVAL, message },
    now,
    gen,
  );
  const events: RecordedEvent[] = [];
  if (prev.reason !== AWAITING_APPROVAL) events.push({ type: "Normal", reason: AWAITING_APPROVAL, message });
  const seen = new Set((prev.approvals ?? []).map((r) => r.name));
  for (const r of tally.records) {
    if (r.counted || seen.has(r.name)) continue;
    const why = IGNORED_REASONS[r.reason ?? ""] ?? "";
    events.push({
      type: "Warning",
      reason: "ApprovalIgnored",
      message: `AccessApproval ${r.name} by ${r.approver} does not count: ${r.reason ?? ""} (${why})`,
    });
  }
  const status: AccessRequestStatus = {
    ...prev,
    phase: "Pending",
    observedGeneration: gen,
    conditions,
    reason: AWAITING_APPROVAL,
    message,
    approvals: tally.records,
    approvalSummary: tally.summary,
  };
  return { kind: "wait", status, events, requeueAfterMs: Math.max(1, deadlineMs - now.getTime()) };
}
