// A policy's spec.justification rule applied to a request. The CRD already refuses a blank
// justification at admission; length and pattern depend on the policy, which the admission
// policy cannot read, so the operator checks them and Denies with the rule named. Pure.
import type { JustificationRule } from "../api/types.ts";
import { issue } from "./checks.ts";
import type { Issue } from "./types.ts";

const FIELD = "spec.justification";

/** The first rule `justification` breaks, named in the issue's reason; undefined when none. */
export function justificationIssue(
  justification: string,
  rule: JustificationRule | undefined,
  policyName: string,
): Issue | undefined {
  if (rule === undefined) return undefined;
  const text = justification.trim();
  if (rule.required === true && text === "") {
    return issue("JustificationRequired", FIELD, `${FIELD} is required by policy ${policyName}`);
  }
  if (rule.minLength !== undefined && text.length < rule.minLength) {
    const msg = `${FIELD} has ${text.length} characters; policy ${policyName} requires at least ${rule.minLength} (spec.justification.minLength)`;
    return issue("JustificationTooShort", FIELD, msg);
  }
  if (rule.pattern !== undefined) {
    const re = compilePattern(rule.pattern);
    // A pattern that does not compile was refused with the policy; deny rather than let it pass.
    if (re === undefined || !re.test(justification)) {
      const msg = `${FIELD} does not match the pattern ${rule.pattern} of policy ${policyName} (spec.justification.pattern)`;
      return issue("JustificationPatternMismatch", FIELD, msg);
    }
  }
  return undefined;
}

/** The pattern as a unicode-mode RegExp; undefined when it does not compile. */
export function compilePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, "u");
  } catch {
    return undefined;
  }
}
