// What the request decision needs to know about renewals (ADR 0013), gathered from the request
// cache: for a renewal, the older request it names (and any rival renewal of it); for an Active
// request, the Active renewal that supersedes it. Scans only for requests that can use the answer.
import type { AccessRequest, ApprovedGrant, JitPolicy } from "../../api/types.ts";
import type { ApprovalVerifier } from "../../core/approval-signature.ts";
import { approvalSnapshot } from "../../core/grants.ts";
import { decideRenewal, narrowToOlder, renewalMismatch } from "../../core/renewal.ts";
import type { RequestFacts } from "./decision.ts";

/** Keyed look-ups only: a scan of every cached request per reconcile is O(N^2) per pass. */
export interface RenewalSources {
  /** The cached request "namespace/name". */
  request(key: string): AccessRequest | undefined;
  /** The cached requests whose spec.supersedes names `namespace/name`. */
  renewalsOf(namespace: string | undefined, name: string): Iterable<AccessRequest>;
  isAuthentic: ApprovalVerifier;
}

/** The renewal inputs of `request`; approvedSnapshot is narrowed to the older approval for a renewal. */
export function renewalFacts(
  request: AccessRequest,
  policy: JitPolicy | undefined,
  now: Date,
  durationMs: number | undefined,
  src: RenewalSources,
): Pick<RequestFacts, "renewal" | "supersededBy" | "approvedSnapshot"> {
  const meta = request.metadata;
  const older = request.spec.supersedes;
  const undecided = request.status?.startTime === undefined;
  if (older !== undefined && undecided && policy !== undefined) {
    const find = (): AccessRequest | undefined => src.request(`${meta.namespace ?? ""}/${older}`);
    return {
      renewal: () => {
        const o = find();
        return decideRenewal({
          request,
          older: o,
          olderAuthentic: o !== undefined && src.isAuthentic(o),
          rival: rivalOf(request, src),
          policy,
          now,
          durationMs: durationMs ?? 0,
        });
      },
      approvedSnapshot: (): ApprovedGrant | undefined =>
        narrowToOlder(approvalSnapshot(request, policy), find()?.status?.approved),
    };
  }
  if (request.status?.phase !== "Active") return {};
  const by = supersederOf(request, src);
  return by === undefined ? {} : { supersededBy: by };
}

/** Another approved, still open request renewing the same older one: a grant is renewed once, not forked. */
function rivalOf(request: AccessRequest, src: RenewalSources): string | undefined {
  const older = request.spec.supersedes;
  if (older === undefined) return undefined;
  for (const r of src.renewalsOf(request.metadata.namespace, older)) {
    if (r.metadata.namespace !== request.metadata.namespace || r.metadata.name === request.metadata.name)
      continue;
    const open = r.status?.phase === "Pending" || r.status?.phase === "Active";
    if (r.spec.supersedes === request.spec.supersedes && r.status?.startTime !== undefined && open) {
      if (src.isAuthentic(r)) return r.metadata.name;
    }
  }
  return undefined;
}

/** The Active, authentic renewal of `request` asking for the very same grant, if any. */
function supersederOf(request: AccessRequest, src: RenewalSources): string | undefined {
  for (const r of src.renewalsOf(request.metadata.namespace, request.metadata.name ?? "")) {
    if (r.metadata.namespace !== request.metadata.namespace || r.spec.supersedes !== request.metadata.name)
      continue;
    if (r.status?.phase !== "Active" || r.spec.revoked === true || r.metadata.deletionTimestamp !== undefined)
      continue;
    if (renewalMismatch(r, request) === undefined && src.isAuthentic(r)) return r.metadata.name;
  }
  return undefined;
}
