// The approval rule that applies to one AccessRequest: the policy's spec.approval, replaced by a
// port's own where a requested port sets one. Several requested ports with different rules combine
// to the strictest: the most approvals, only approvers every rule names, self-approval only when
// every rule allows it, the shortest timeout. Pure.
import type { AccessRequest, ApprovalPolicy, JitPolicy } from "../api/types.ts";
import { parseDuration } from "./duration.ts";

/** Default wait for approvals when spec.approval.timeout is omitted. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 3_600_000;

export interface EffectiveApproval {
  required: number;
  /** undefined: the rule names nobody (then nobody is eligible). */
  users: ReadonlySet<string>;
  groups: ReadonlySet<string>;
  allowSelfApproval: boolean;
  timeoutMs: number;
}

function fromRule(rule: ApprovalPolicy | undefined): EffectiveApproval {
  const timeout = rule?.timeout === undefined ? undefined : parseDuration(rule.timeout);
  return {
    required: rule?.required ?? 0,
    users: new Set(rule?.approvers?.users ?? []),
    groups: new Set(rule?.approvers?.groups ?? []),
    allowSelfApproval: rule?.allowSelfApproval === true,
    timeoutMs: timeout?.ok === true ? timeout.ms : DEFAULT_APPROVAL_TIMEOUT_MS,
  };
}

function intersect(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  return new Set([...a].filter((x) => b.has(x)));
}

/** The strictest of two rules (see the file comment). */
export function strictest(a: EffectiveApproval, b: EffectiveApproval): EffectiveApproval {
  if (a.required === 0) return b;
  if (b.required === 0) return a;
  return {
    required: Math.max(a.required, b.required),
    users: intersect(a.users, b.users),
    groups: intersect(a.groups, b.groups),
    allowSelfApproval: a.allowSelfApproval && b.allowSelfApproval,
    timeoutMs: Math.min(a.timeoutMs, b.timeoutMs),
  };
}

/** The approval rule for `request` under `policy`; required 0 means automatic approval. */
export function effectiveApproval(request: AccessRequest, policy: JitPolicy): EffectiveApproval {
  const base = policy.spec.approval;
  let out: EffectiveApproval | undefined;
  for (const n of request.spec.ports) {
    for (const port of policy.spec.ports.filter((p) => p.number === n)) {
      const rule = fromRule(port.approval ?? base);
      out = out === undefined ? rule : strictest(out, rule);
    }
  }
  return out ?? fromRule(base);
}

/**
 * Whether `user` (with the groups the approver admission policy vouched for) may approve under
 * `rule`, and if not why: a reason for status.approvals.
 */
export function ineligibility(
  rule: EffectiveApproval,
  requester: string,
  user: string,
  groups: readonly string[],
): string | undefined {
  if (user === requester && !rule.allowSelfApproval) return "SelfApproval";
  if (rule.users.has(user) || groups.some((g) => rule.groups.has(g))) return undefined;
  return "NotAnApprover";
}
