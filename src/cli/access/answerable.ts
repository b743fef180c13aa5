// Whether an answer of mine to a request would count, checked before creating the AccessApproval with
// the core's own rule (effectiveApproval, ineligibility). The operator counts again and remains the
// judge (the policy may change in between, and only it sees every answer); this only spares an
// answer that cannot count. Pure.
import type { AccessRequest, ApprovalDecision, JitPolicy } from "../../api/types.ts";
import { effectiveApproval, ineligibility } from "../../core/approval-policy.ts";
import type { Identity } from "./whoami.ts";
import { notCountedText } from "./render-approvals.ts";

export type Answerable = { ok: true } | { ok: false; message: string };

export function answerable(
  request: AccessRequest,
  policy: JitPolicy | undefined,
  me: Identity,
  decision: ApprovalDecision,
): Answerable {
  const message =
    notWaiting(request) ?? notEligible(request, policy, me, decision) ?? repeat(request, me, decision);
  return message === undefined ? { ok: true } : { ok: false, message };
}

/** The request no longer waits for anyone: closed, open, or approved and opening. */
function notWaiting(request: AccessRequest): string | undefined {
  const name = request.metadata.name ?? "";
  const s = request.status;
  const phase = s?.phase ?? "Pending";
  if (phase !== "Pending") {
    const why = s?.reason === undefined ? "" : ` (${s.reason})`;
    return `accessrequest ${name} is ${phase}${why}, not waiting for approval`;
  }
  if (s?.startTime !== undefined) return `accessrequest ${name} is already approved (since ${s.startTime})`;
  return undefined;
}

/** The policy needs no answer, or not mine (the core's rule, as the operator applies it). */
function notEligible(
  request: AccessRequest,
  policy: JitPolicy | undefined,
  me: Identity,
  decision: ApprovalDecision,
): string | undefined {
  const name = request.metadata.name ?? "";
  const policyName = request.spec.policyName;
  if (policy === undefined) return `policy ${policyName} of accessrequest ${name} is not in the namespace`;
  const rule = effectiveApproval(request, policy);
  if (rule.required === 0)
    return `policy ${policyName} approves accessrequest ${name} automatically; nobody's answer is needed`;
  const why = ineligibility(rule, request.spec.requester, me.username, me.groups);
  if (why === undefined) return undefined;
  const what = decision === "Approve" ? "approval" : "rejection";
  return `your ${what} (${me.username}) would not count: ${notCountedText(why)}`;
}

/** A second approval of mine counts once only (a rejection after approving still denies). */
function repeat(request: AccessRequest, me: Identity, decision: ApprovalDecision): string | undefined {
  if (decision !== "Approve") return undefined;
  const mine = (request.status?.approvals ?? []).find(
    (a) => a.approver === me.username && a.counted && a.decision === "Approve",
  );
  if (mine === undefined) return undefined;
  const name = request.metadata.name ?? "";
  return `you already approved accessrequest ${name} (accessapproval ${mine.name}, counted); a repeat does not count`;
}
