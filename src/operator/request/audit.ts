// Audit records: one structured log line per decision (Approved, Denied) and per open or close
// (Active, Expired, Revoked, Failed) of an AccessRequest. The request object is deleted after its
// retention and Events expire within the hour; these lines are what a log pipeline keeps. Pure
// formatting here; the request reconciler emits a record once, right after the status write that
// made the transition succeeded (a requeue sees the new phase and emits nothing).
import type { AccessRequest, AccessRequestStatus, GrantRuleStatus } from "../../api/types.ts";
import { policyKeyOf } from "../../core/keys.ts";
import { STATUS_RULES_MAX } from "./decision.ts";

export type AuditEvent =
  "Approved" | "Denied" | "Active" | "Expired" | "Revoked" | "Failed" | "Superseded" | "TimedOut";

export interface AuditRule {
  /** ARM id of the NSG holding the rule. */
  nsg: string;
  rule: string;
  port: number;
}

export interface AuditRecord {
  /** Always true: `jq 'select(.audit)'` picks audit lines out of the operator's log. */
  audit: true;
  event: AuditEvent;
  /** "namespace/name" of the AccessRequest. */
  request: string;
  uid: string | undefined;
  /** "namespace/name" of its JitPolicy. */
  policy: string;
  requester: string;
  justification: string;
  source: string;
  /** The targets asked for; "all" when the request names none (all of the policy's targets). */
  targets: string[] | "all";
  ports: number[];
  /** The NSG rules that carry (or carried) the grant, at most STATUS_RULES_MAX of them. */
  rules: AuditRule[];
  /** How many NSG rules carry the grant in all (rules may list fewer). */
  rulesTotal: number;
  startTime: string | undefined;
  expiresAt: string | undefined;
  reason: string | undefined;
  message: string | undefined;
  /** Who approved: "policy" (approved by policy alone); null when never approved. */
  approver: "policy" | null;
  /** The people whose approvals counted, when the policy required approval. */
  approvers?: string[];
}

/**
 * The audit event a status transition is, or undefined when it is none (a request held undecided,
 * a status refreshed without a phase change).
 */
export function auditEvent(
  before: AccessRequestStatus | undefined,
  after: AccessRequestStatus,
): AuditEvent | undefined {
  const approvedNow = after.startTime !== undefined && before?.startTime === undefined;
  if (approvedNow && after.phase === "Pending") return "Approved";
  if (after.phase === before?.phase) return undefined;
  switch (after.phase) {
    case "Active":
    case "Expired":
    case "Revoked":
    case "Failed":
    case "Denied":
    case "Superseded":
    case "TimedOut":
      return after.phase;
    default:
      return undefined;
  }
}

/**
 * The record of `request` (as it was before the write) reaching `after`. `placed` are the rules the
 * NSGs carry for it now (all of them, for the Active record); a closing record lists the rules the
 * status named before it was cleared.
 */
export function auditRecord(
  event: AuditEvent,
  request: AccessRequest,
  after: AccessRequestStatus,
  placed: GrantRuleStatus[] = [],
): AuditRecord {
  const meta = request.metadata;
  const spec = request.spec;
  const ns = meta.namespace ?? "";
  const rules = event === "Active" ? placed : (request.status?.rules ?? []);
  const startTime = after.startTime ?? request.status?.startTime;
  return {
    audit: true,
    event,
    request: `${ns}/${meta.name ?? ""}`,
    uid: meta.uid,
    policy: policyKeyOf(request),
    requester: spec.requester,
    justification: spec.justification,
    source: spec.sourceAddressPrefix,
    targets: spec.targets !== undefined && spec.targets.length > 0 ? [...spec.targets] : "all",
    ports: [...spec.ports],
    rules: rules
      .slice(0, STATUS_RULES_MAX)
      .map((r) => ({ nsg: r.networkSecurityGroupId, rule: r.ruleName, port: r.port })),
    rulesTotal: rules.length,
    startTime,
    expiresAt: after.expiresAt ?? request.status?.expiresAt,
    reason: after.reason,
    message: after.message,
    approver: startTime === undefined ? null : "policy",
    ...approversOf(after),
  };
}

/**
 * The record of an approved, still open request whose deletion closed it: no status is written
 * (the object goes once its finalizer is released), so the close is recorded here.
 */
export function deletionRecord(request: AccessRequest): AuditRecord {
  const status = request.status ?? {};
  return auditRecord("Revoked", request, {
    ...status,
    phase: "Revoked",
    reason: "Deleted",
    message: "request deleted; access revoked",
  });
}

function approversOf(status: AccessRequestStatus): { approvers?: string[] } {
  const counted = (status.approvals ?? []).filter((r) => r.counted && r.decision === "Approve");
  return counted.length === 0 ? {} : { approvers: counted.map((r) => r.approver) };
}
