// A request checked before it is created, with the operator's own core checks and messages: the same
// validateRequest the operator runs, and for a renewal the same decideRenewal. The operator decides
// again (the policy may change in between); this only spares a Denied object.
import type { AccessRequest, JitPolicy } from "../../api/types.ts";
import { decideRenewal } from "../../core/renewal.ts";
import { validateRequest } from "../../core/validate.ts";

export type Precheck = { ok: true } | { ok: false; reason: string; message: string };

export function precheck(
  request: AccessRequest,
  policy: JitPolicy | undefined,
  older?: { request: AccessRequest; now: Date; durationMs: number },
): Precheck {
  const verdict = validateRequest(request, policy);
  if (!verdict.allowed) return { ok: false, reason: verdict.reason, message: verdict.message };
  if (older === undefined || policy === undefined) return { ok: true };
  const renewal = decideRenewal({
    request,
    older: older.request,
    // The CLI cannot check the operator's signature; the operator does.
    olderAuthentic: true,
    rival: undefined,
    policy,
    now: older.now,
    durationMs: older.durationMs,
  });
  return renewal.ok ? { ok: true } : { ok: false, reason: renewal.reason, message: renewal.message };
}
