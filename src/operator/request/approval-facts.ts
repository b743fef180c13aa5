// What the request reconciler gathers for approvals (the approvals of the request counted against
// its policy's rule) and what it tells the notifier after a decision was written. Kept here so the
// reconciler's own edits stay small.
import { randomUUID } from "node:crypto";
import type { AccessApproval, AccessRequest, JitPolicy } from "../../api/types.ts";
import { effectiveApproval } from "../../core/approval-policy.ts";
import { approvalsFor, tallyApprovals } from "../../core/approval-tally.ts";
import type { Notification, NotificationType, RequestNotifier } from "../../notify/types.ts";
import type { RequestDecision } from "./decision.ts";
import type { ApprovalFacts } from "../approval/gate.ts";

export type { RequestNotifier };

export interface ApprovalSources {
  approvals?(namespace: string): Iterable<AccessApproval>;
  approvalGuard?(namespace: string): { ok: boolean };
}

/** undefined when the policy approves `request` automatically. */
export function approvalFacts(
  request: AccessRequest,
  policy: JitPolicy,
  src: ApprovalSources,
): ApprovalFacts | undefined {
  const rule = effectiveApproval(request, policy);
  if (rule.required === 0) return undefined;
  const ns = request.metadata.namespace ?? "";
  const created = Date.parse(request.metadata.creationTimestamp ?? "");
  // Without a creation time there is nothing to time out from: wait at most one timeout from now.
  const deadlineMs = (Number.isNaN(created) ? Date.now() : created) + rule.timeoutMs;
  const mine = approvalsFor(request, src.approvals?.(ns) ?? []);
  const bound = src.approvalGuard?.(ns).ok ?? false;
  return { tally: tallyApprovals(request, rule, mine, bound, deadlineMs), deadlineMs };
}

/**
 * Requested goes out once, with the request's first status: notifications follow a written status,
 * and a request may come with the finalizer already on it (ADR 0022), so the operator's finalizer
 * write cannot mark its arrival.
 */
function writesFirstStatus(request: AccessRequest, dec: RequestDecision): boolean {
  return request.status?.phase === undefined && dec.status?.phase !== undefined;
}

/** The notification types a written decision amounts to, in the order they happened. */
export function notificationTypes(request: AccessRequest, dec: RequestDecision): NotificationType[] {
  const out: NotificationType[] = [];
  if (writesFirstStatus(request, dec)) out.push("Requested");
  for (const e of dec.events) {
    switch (e.reason) {
      case "AwaitingApproval":
      case "Approved":
        out.push(e.reason);
        break;
      case "Granted":
        out.push("Opened");
        break;
      case "Denied":
        out.push(dec.status?.reason === "Rejected" ? "Rejected" : "Denied");
        break;
      case "TimedOut":
      case "Expired":
      case "Revoked":
      case "Failed":
        out.push("Closed");
        break;
      default:
        break;
    }
  }
  return out;
}

export function notifyDecision(
  notify: RequestNotifier,
  request: AccessRequest,
  dec: RequestDecision,
  now: Date,
): void {
  const status = dec.status ?? request.status ?? {};
  const m = request.metadata;
  for (const type of notificationTypes(request, dec)) {
    const n: Notification = {
      type,
      id: randomUUID(),
      time: now.toISOString(),
      namespace: m.namespace ?? "",
      request: m.name ?? "",
      uid: m.uid ?? "",
      policy: request.spec.policyName,
      requester: request.spec.requester,
      ports: request.spec.ports,
      sourceAddressPrefix: request.spec.sourceAddressPrefix,
      justification: request.spec.justification,
      ...(status.reason === undefined ? {} : { reason: status.reason }),
      ...(status.message === undefined ? {} : { message: status.message }),
      ...(status.expiresAt === undefined ? {} : { expiresAt: status.expiresAt }),
      ...(status.approvalSummary === undefined ? {} : { approvals: status.approvalSummary }),
    };
    notify(n);
  }
}
