// What the approver's commands print: the requests waiting for me (`pending`), and what a request
// shows once the operator has counted (or not) my answer (`approve`, `reject`). Pure.
import type { AccessRequest, AccessRequestStatus, ApprovalRecord } from "../../api/types.ts";
import { IGNORED_REASONS } from "../../core/approval-tally.ts";
import { EXIT } from "./exit-codes.ts";
import { table } from "./render.ts";

/** "45s", "12m", "3h05m": how long a request has waited. */
export function ageText(sinceIso: string | undefined, now: Date): string {
  const ms = now.getTime() - Date.parse(sinceIso ?? "");
  if (Number.isNaN(ms)) return "?";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export function pendingRows(requests: readonly AccessRequest[], now: Date): string {
  const rows = requests.map((r) => [
    r.metadata.name ?? "",
    r.spec.requester,
    r.spec.policyName,
    r.spec.ports.join(","),
    r.spec.sourceAddressPrefix,
    r.spec.duration,
    r.status?.approvalSummary ?? "",
    ageText(r.metadata.creationTimestamp, now),
    r.spec.justification,
  ]);
  return table(
    ["NAME", "REQUESTER", "POLICY", "PORTS", "SOURCE", "FOR", "APPROVALS", "WAITING", "JUSTIFICATION"],
    rows,
  );
}

/** Why an answer does not count, in words (the operator's reason names, explained). */
export function notCountedText(reason: string): string {
  return `${reason}: ${IGNORED_REASONS[reason] ?? "see status.approvals of the request"}`;
}

export interface AnswerOutcome {
  text: string;
  /** Written to stderr (a refusal or an answer that does not count) rather than stdout. */
  toErr: boolean;
  code: number;
}

/**
 * What `request` shows about the answer named `approval`, once the operator has recorded it:
 * undefined while it is not yet in status.approvals.
 */
export function answerOutcome(request: AccessRequest, approval: string): AnswerOutcome | undefined {
  const record: ApprovalRecord | undefined = request.status?.approvals?.find((a) => a.name === approval);
  if (record === undefined) return undefined;
  if (!record.counted) {
    return {
      text: `accessapproval ${approval} does not count: ${notCountedText(record.reason ?? "")}\n`,
      toErr: true,
      code: EXIT.denied,
    };
  }
  return { text: countedText(request), toErr: false, code: EXIT.ok };
}

/** The request's state after a counted answer: rejected, still waiting (n/m), opening, or its phase. */
function countedText(request: AccessRequest): string {
  const name = request.metadata.name ?? "";
  const s = request.status ?? {};
  if (s.phase === "Denied") {
    const why = s.reason === "Rejected" ? "rejected" : `Denied (${s.reason ?? ""})`;
    return `accessrequest ${name} ${why}: ${s.message ?? ""}\n`;
  }
  const summary = s.approvalSummary === undefined ? "" : `, approvals ${s.approvalSummary}`;
  return `accessrequest ${name}: ${stateText(s)}${summary}\n`;
}

function stateText(s: AccessRequestStatus): string {
  if (s.phase !== undefined && s.phase !== "Pending") return s.phase;
  return s.startTime === undefined ? "waiting for more approvals" : "approved, opening";
}
