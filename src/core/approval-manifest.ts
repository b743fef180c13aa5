// For clients (kubectl drawbridge approve|reject|pending): the AccessApproval a person creates, and
// the requests that wait for a given person. Pure; the caller supplies the user's name and groups
// (from a SelfSubjectReview) and the objects it listed.
import type { AccessApproval, AccessRequest, ApprovalDecision, JitPolicy } from "../api/types.ts";
import { API_GROUP_VERSION } from "../api/types.ts";
import { effectiveApproval, ineligibility } from "./approval-policy.ts";
import { approvalsFor } from "./approval-tally.ts";

export interface ApprovalManifestInput {
  request: Pick<AccessRequest, "metadata">;
  decision: ApprovalDecision;
  /** The authenticated user name: the approver admission policy refuses any other. */
  user: string;
  /** The user's groups as the API server reports them; only these may be claimed. */
  groups: readonly string[];
  comment?: string;
}

/**
 * The AccessApproval answering `request`: generateName under the request's name, bound to its uid
 * (an approval never carries over to a recreated request of the same name).
 */
export function buildApprovalManifest(input: ApprovalManifestInput): AccessApproval {
  const m = input.request.metadata;
  if (m.name === undefined || m.uid === undefined || m.namespace === undefined) {
    throw new Error(
      "the AccessRequest needs metadata.name, metadata.uid and metadata.namespace (read it from the API server)",
    );
  }
  const comment = input.comment?.trim();
  return {
    apiVersion: API_GROUP_VERSION,
    kind: "AccessApproval",
    metadata: { generateName: `${m.name.slice(0, 200)}-`, namespace: m.namespace },
    spec: {
      requestName: m.name,
      requestUID: m.uid,
      decision: input.decision,
      approver: input.user,
      ...(input.groups.length > 0 ? { approverGroups: [...input.groups] } : {}),
      ...(comment === undefined || comment === "" ? {} : { comment: comment.slice(0, 1024) }),
    },
  };
}

export interface PendingForInput {
  user: string;
  groups: readonly string[];
  requests: readonly AccessRequest[];
  policies: readonly JitPolicy[];
  approvals: readonly AccessApproval[];
}

/**
 * The requests waiting for `user`: Pending and not yet approved, under a policy that needs approval,
 * with `user` eligible to approve and not having answered yet. Oldest first.
 */
export function pendingFor(input: PendingForInput): AccessRequest[] {
  const policies = new Map(
    input.policies.map((p) => [`${p.metadata.namespace ?? ""}/${p.metadata.name ?? ""}`, p]),
  );
  return input.requests
    .filter((r) => {
      if ((r.status?.phase ?? "Pending") !== "Pending" || r.status?.startTime !== undefined) return false;
      const policy = policies.get(`${r.metadata.namespace ?? ""}/${r.spec.policyName}`);
      if (policy === undefined) return false;
      const rule = effectiveApproval(r, policy);
      if (rule.required === 0) return false;
      if (ineligibility(rule, r.spec.requester, input.user, input.groups) !== undefined) return false;
      return !approvalsFor(r, input.approvals).some((a) => a.spec.approver === input.user);
    })
    .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""));
}
