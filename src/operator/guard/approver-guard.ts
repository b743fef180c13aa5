// The approver admission policy as the operator checks it: the same checks as the requester
// guard (guard.ts), on accessapprovals, found by the label jit.drawbridge.dev/guard=approver.
// Where it does not hold, spec.approver is nobody's word, so no approval counts there.
import { ACCESSAPPROVAL_PLURAL } from "../../api/types.ts";
import { GUARD_LABEL } from "./guard.ts";
import type { GuardTarget } from "./guard.ts";

export const APPROVER_GUARD_LABEL_VALUE = "approver";

export const APPROVER_GUARD: GuardTarget = {
  plural: ACCESSAPPROVAL_PLURAL,
  labelSelector: `${GUARD_LABEL}=${APPROVER_GUARD_LABEL_VALUE}`,
};

export const APPROVER_GUARD_CONSEQUENCE =
  "no AccessApproval counts in this namespace until the approver admission policy guards it";
