// A status write whose reply was lost may still have landed (ADR 0021, "A write whose outcome is
// unknown"). An approval's write that fails is withdrawn: its NSGs are planned again without it.
// When the write did land, the cache learns of it only from the watch, and until then the NSG takes
// out a rule that the request's status (Active, when the write said it) claims. Before withdrawing,
// such a write is confirmed by reading the request from the API server. Pure: the reconciler reads.
import { ApiException } from "@kubernetes/client-node";
import type { AccessRequest, AccessRequestStatus } from "../../api/types.ts";
import type { Written } from "../../kube/kube.ts";

/**
 * Network failures in which the request never reached the API server: nothing was sent, nothing
 * applied. Every other failure without an HTTP status (a timeout waiting for the reply, a connection
 * reset or closed after the request went out, a pool dropped under a write) may have been applied.
 */
const NOT_SENT = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** Reads after a write whose outcome is unknown before it is withdrawn all the same. */
export const MAX_OUTCOME_READS = 5;

/**
 * Whether a failed write may nevertheless have been applied. A 4xx is the API server's answer that
 * it was not (refused, conflict, gone, throttled before handling). A 5xx may come after the write
 * was stored (a 504 from the API server's own timeout says it "may still be processing"; a proxy's
 * 502 or 503 may follow a request it forwarded). Anything else without a status may have been sent
 * unless the connection was never made. Wrongly "maybe" costs one read; wrongly "not applied" opens
 * the window this module closes.
 */
export function maybeLanded(err: unknown): boolean {
  if (err instanceof ApiException) return typeof err.code !== "number" || err.code >= 500;
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (typeof e !== "object") break;
    const code = "code" in e ? e.code : undefined;
    if (typeof code === "string" && NOT_SENT.has(code)) return false;
    e = "cause" in e ? e.cause : undefined;
  }
  return true;
}

/**
 * Whether the request as read from the API server carries this very approval (same object, same
 * signed startTime and expiresAt) and it still grants: not being deleted, not revoked, not expired.
 * Anything else (gone, another object of the name, no approval or another one, ended) is withdrawn.
 */
export function approvalStands(
  read: AccessRequest | undefined,
  uid: string | undefined,
  sent: AccessRequestStatus,
  now: Date,
): boolean {
  if (read === undefined || uid === undefined || read.metadata.uid !== uid) return false;
  const s = read.status;
  if (s?.startTime === undefined || sent.startTime === undefined) return false;
  if (s.startTime !== sent.startTime || s.expiresAt !== sent.expiresAt) return false;
  if (s.approvalSignature !== sent.approvalSignature) return false;
  if (read.metadata.deletionTimestamp !== undefined || read.spec.revoked === true) return false;
  const expiresAt = Date.parse(s.expiresAt ?? "");
  return !Number.isNaN(expiresAt) && now.getTime() < expiresAt;
}

/**
 * An approval's status write that failed in a way that may have applied it, and whose confirming read
 * failed too: its grant stays in flight (as while the write was on its way) and the read is tried
 * again on the request's next reconcile, after the queue's backoff.
 */
export class ApprovalOutcomeUnknown extends Error {
  /** The status the write carried. */
  readonly sent: AccessRequestStatus;
  /** What a successful write would have done after it (cache, audit, Events), given the object. */
  readonly confirm: (read: Written) => void;

  constructor(readError: unknown, sent: AccessRequestStatus, confirm: (read: Written) => void) {
    super(
      `approval status write outcome unknown; reading it back failed: ${
        readError instanceof Error ? readError.message : String(readError)
      }`,
      { cause: readError },
    );
    this.name = "ApprovalOutcomeUnknown";
    this.sent = sent;
    this.confirm = confirm;
  }
}
