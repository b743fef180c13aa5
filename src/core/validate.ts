// Defence-in-depth validation: everything the CRD schema and CEL rules check, re-checked in code,
// plus the semantic checks of a request against its policy.
import type { AccessRequest, JitPolicy } from "../api/types.ts";
import type { Issue, Verdict } from "./types.ts";

export function validatePolicySpec(_spec: unknown): Issue[] {
  throw new Error("validatePolicySpec: not implemented yet");
}

export function validateRequest(_request: AccessRequest, _policy: JitPolicy | undefined): Verdict {
  throw new Error("validateRequest: not implemented yet");
}
