// What the CRD checks on spec.approval, spec.justification and ports[].approval of a JitPolicy,
// re-checked (the operator never trusts that the schema was applied).
import { checkArray, checkDuration, checkInteger, checkString, issue, isRecord, show } from "./checks.ts";
import { compilePattern } from "./approval-justification.ts";
import type { Issue } from "./types.ts";

export const APPROVAL_TIMEOUT_BOUNDS = {
  minMs: 10_000,
  maxMs: 7 * 86_400_000,
  tooShort: "InvalidApproval",
  tooLong: "InvalidApproval",
};

function nameListIssues(value: unknown, field: string): Issue[] {
  if (value === undefined) return [];
  const bad = checkArray(value, field, "InvalidApproval", { min: 0, max: 100 });
  if (bad !== undefined || !Array.isArray(value)) return bad === undefined ? [] : [bad];
  return value.flatMap((v, i) => {
    const s = checkString(v, `${field}[${i}]`, "InvalidApproval", { min: 1, max: 256, nonBlank: true });
    return s === undefined ? [] : [s];
  });
}

/** Issues of one approval rule at `field` (spec.approval or spec.ports[i].approval). */
export function approvalRuleIssues(value: unknown, field: string): Issue[] {
  if (value === undefined) return [];
  if (!isRecord(value)) return [issue("InvalidApproval", field, `${field} must be an object`)];
  const out: (Issue | undefined)[] = [
    checkInteger(value["required"], `${field}.required`, "InvalidApproval", { min: 0, max: 10 }),
  ];
  const approvers = value["approvers"];
  if (approvers !== undefined && !isRecord(approvers)) {
    out.push(issue("InvalidApproval", `${field}.approvers`, `${field}.approvers must be an object`));
  } else if (approvers !== undefined) {
    out.push(...nameListIssues(approvers["users"], `${field}.approvers.users`));
    out.push(...nameListIssues(approvers["groups"], `${field}.approvers.groups`));
  }
  const self = value["allowSelfApproval"];
  if (self !== undefined && typeof self !== "boolean") {
    const msg = `${field}.allowSelfApproval must be true or false, got ${show(self)}`;
    out.push(issue("InvalidApproval", `${field}.allowSelfApproval`, msg));
  }
  if (value["timeout"] !== undefined) {
    out.push(checkDuration(value["timeout"], `${field}.timeout`, APPROVAL_TIMEOUT_BOUNDS).issue);
  }
  return out.filter((i) => i !== undefined);
}

export function justificationRuleIssues(value: unknown): Issue[] {
  const field = "spec.justification";
  if (value === undefined) return [];
  if (!isRecord(value)) return [issue("InvalidJustificationRule", field, `${field} must be an object`)];
  const out: (Issue | undefined)[] = [];
  const required = value["required"];
  if (required !== undefined && typeof required !== "boolean") {
    const msg = `${field}.required must be true or false, got ${show(required)}`;
    out.push(issue("InvalidJustificationRule", `${field}.required`, msg));
  }
  if (value["minLength"] !== undefined) {
    out.push(
      checkInteger(value["minLength"], `${field}.minLength`, "InvalidJustificationRule", {
        min: 1,
        max: 512,
      }),
    );
  }
  const pattern = value["pattern"];
  if (pattern !== undefined) {
    const bad = checkString(pattern, `${field}.pattern`, "InvalidJustificationRule", { min: 1, max: 256 });
    if (bad !== undefined) out.push(bad);
    else if (compilePattern(pattern as string) === undefined) {
      const msg = `${field}.pattern ${show(pattern)} is not a valid regular expression (ECMAScript, unicode mode)`;
      out.push(issue("InvalidJustificationRule", `${field}.pattern`, msg));
    }
  }
  return out.filter((i) => i !== undefined);
}

/** spec.approval, spec.justification and every ports[i].approval. */
export function approvalSpecIssues(spec: Record<string, unknown>): Issue[] {
  const ports = Array.isArray(spec["ports"]) ? (spec["ports"] as unknown[]) : [];
  return [
    ...approvalRuleIssues(spec["approval"], "spec.approval"),
    ...justificationRuleIssues(spec["justification"]),
    ...ports.flatMap((p, i) =>
      isRecord(p) ? approvalRuleIssues(p["approval"], `spec.ports[${i}].approval`) : [],
    ),
  ];
}
