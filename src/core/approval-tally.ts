// Counting the AccessApprovals of one request against its approval rule. Pure: the operator
// passes the approvals it caches and whether the approver admission policy vouches for their
// author fields in this namespace.
import type { AccessApproval, AccessRequest, ApprovalRecord } from "../api/types.ts";
import type { EffectiveApproval } from "./approval-policy.ts";
import { ineligibility } from "./approval-policy.ts";

export type ApprovalOutcome =
  | { kind: "waiting" }
  | { kind: "approved" }
  /** One eligible approver rejected: the request is Denied. */
  | { kind: "rejected"; by: string; comment: string | undefined };

export interface ApprovalTally {
  outcome: ApprovalOutcome;
  /** Distinct eligible approvers who approved. */
  counted: number;
  required: number;
  /** Every approval of the request, oldest first, with why it does not count. */
  records: ApprovalRecord[];
  /** "counted/required", e.g. "1/2". */
  summary: string;
}

/** At most this many records are written to status.approvals (the CRD's maxItems). */
export const APPROVAL_RECORDS_MAX = 50;

/** The approvals that answer `request`: same namespace, its name and its uid. */
export function approvalsFor(request: AccessRequest, all: Iterable<AccessApproval>): AccessApproval[] {
  const m = request.metadata;
  const out: AccessApproval[] = [];
  for (const a of all) {
    if (a.metadata.namespace !== m.namespace || a.spec.requestName !== m.name) continue;
    if (a.spec.requestUID !== m.uid || a.metadata.deletionTimestamp !== undefined) continue;
    out.push(a);
  }
  return out.sort(
    (a, b) =>
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
      (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
  );
}

/**
 * Counts distinct eligible approvers; one eligible rejection rejects (whatever the approvals).
 * `authorsBound` false (the approver admission policy does not guard the namespace): nobody vouches
 * for spec.approver, so nothing counts.
 */
export function tallyApprovals(
  request: AccessRequest,
  rule: EffectiveApproval,
  approvals: readonly AccessApproval[],
  authorsBound: boolean,
  /** Epoch ms after which approvals no longer count (the request's approval deadline). */
  deadlineMs = Number.POSITIVE_INFINITY,
): ApprovalTally {
  const approvedBy = new Set<string>();
  const records: ApprovalRecord[] = [];
  let rejection: ApprovalOutcome | undefined;
  for (const a of approvals) {
    const s = a.spec;
    const why = notCounted(request, rule, a, authorsBound, deadlineMs);
    const reason = why ?? (s.decision === "Approve" && approvedBy.has(s.approver) ? "Duplicate" : undefined);
    records.push({
      name: a.metadata.name ?? "",
      approver: s.approver,
      decision: s.decision,
      time: a.metadata.creationTimestamp ?? "",
      counted: reason === undefined,
      ...(reason === undefined ? {} : { reason }),
    });
    if (reason !== undefined) continue;
    if (s.decision === "Reject") rejection ??= { kind: "rejected", by: s.approver, comment: s.comment };
    else approvedBy.add(s.approver);
  }
  const counted = approvedBy.size;
  const outcome: ApprovalOutcome =
    rejection ?? (counted >= rule.required ? { kind: "approved" } : { kind: "waiting" });
  return {
    outcome,
    counted,
    required: rule.required,
    records: records.slice(-APPROVAL_RECORDS_MAX),
    summary: `${Math.min(counted, rule.required)}/${rule.required}`,
  };
}

/** Why `a` does not count (before duplicates), or undefined. */
function notCounted(
  request: AccessRequest,
  rule: EffectiveApproval,
  a: AccessApproval,
  authorsBound: boolean,
  deadlineMs: number,
): string | undefined {
  if (!authorsBound) return "ApproverNotBound";
  if (Date.parse(a.metadata.creationTimestamp ?? "") > deadlineMs) return "AfterTimeout";
  return ineligibility(rule, request.spec.requester, a.spec.approver, a.spec.approverGroups ?? []);
}

/** What a reason in status.approvals means, for messages and docs. */
export const IGNORED_REASONS: Readonly<Record<string, string>> = {
  SelfApproval: "the requester's own approval does not count (spec.approval.allowSelfApproval is false)",
  NotAnApprover: "the approver is neither a listed user nor in a listed group of spec.approval.approvers",
  ApproverNotBound:
    "the approver admission policy does not guard this namespace, so nobody vouches for spec.approver",
  Duplicate: "this approver's approval was already counted",
  AfterTimeout: "created after the request's approval timeout",
};
