// Defence-in-depth validation: everything the CRD schema and CEL rules check, re-checked in code,
// plus the semantic checks of a request against its policy. Each check is a small named function
// (validate-policy.ts, validate-request.ts) returning { reason, field, message }.
import type { AccessRequest, JitPolicy } from "../api/types.ts";
import type { Issue, Verdict } from "./types.ts";
import { REQUEST_CHECKS, runRequestChecks } from "./request-checks.ts";
import { requestShapeIssues } from "./validate-request.ts";

export { validatePolicySpec, effectivePolicySpec } from "./validate-policy.ts";

/** Issues of the request alone (what admission checks), without looking at any policy. */
export function validateRequestSpec(spec: unknown): Issue[] {
  return requestShapeIssues(spec);
}

export function verdictOf(issues: Issue[]): Verdict {
  const first = issues[0];
  if (first === undefined) return { allowed: true };
  return { allowed: false, reason: first.reason, field: first.field, message: first.message, issues };
}

/**
 * Allowed, or denied with the first broken limit: the first issue of the first failing check of
 * REQUEST_CHECKS (request-checks.ts), whose order is the precedence.
 */
export function validateRequest(request: AccessRequest, policy: JitPolicy | undefined): Verdict {
  return verdictOf(runRequestChecks(REQUEST_CHECKS, { request, policy }));
}
