// An approval's status write that also reports the grant open (ADR 0021). The NSGs plan with an
// approval from its decision (ADR 0016), so under a loaded API server the rule is often in place
// before the approval's status write is even sent. Composed at that moment, the write then says
// both: approved and Active, with each condition's own lastTransitionTime, in one status write
// instead of two. Pure: the reconciler gathers the facts when the write leaves for the API server.
import type { AccessRequest, AccessRequestStatus, GrantRuleStatus } from "../../api/types.ts";
import type { RecordedEvent } from "../../kube/events.ts";
import type { Reason } from "../state/ledger.ts";
import { grantedStatus } from "./decision.ts";

export interface AtSendFacts {
  /** The approval decided and signed: the status the write would carry on its own. */
  approval: AccessRequestStatus;
  /** The uid of the object decided. */
  uid: string | undefined;
  /** The request as the cache holds it when the write is sent. */
  current: AccessRequest | undefined;
  /** Whether the NSGs plan with the approval before it lands (ADR 0016); if not, no rule carries it yet. */
  early: boolean;
  /** The NSG ledger for the approval's grants: placed for this very approval (its expiresAt). */
  view: {
    placement: { complete: boolean; rules: GrantRuleStatus[] };
    rejected: Reason | undefined;
    failed: Reason | undefined;
  };
  now: Date;
}

export interface GrantedAtSend {
  /** The approval as Active. */
  status: AccessRequestStatus;
  /** The Granted Event the separate Active write would have recorded. */
  event: RecordedEvent;
  /** The rules that carry the grant (all of them; status.rules may list fewer). */
  rules: GrantRuleStatus[];
}

/**
 * The approval as Active when every NSG of its grants already carries it, for this very approval,
 * and the request is still the one decided, neither deleted nor revoked; undefined otherwise (the
 * approval is written alone and Active follows, as before).
 */
export function grantAtSend(f: AtSendFacts): GrantedAtSend | undefined {
  const a = f.approval;
  if (!f.early || a.phase !== "Pending" || a.startTime === undefined || a.expiresAt === undefined)
    return undefined;
  const cur = f.current;
  if (cur === undefined || !stillDecided(cur, f.uid) || !placed(f.view)) return undefined;
  const expiresAt = Date.parse(a.expiresAt);
  if (Number.isNaN(expiresAt) || f.now.getTime() >= expiresAt) return undefined;
  const granted = grantedStatus(a, f.view.placement.rules, a.expiresAt, f.now, cur.metadata.generation);
  return { ...granted, rules: f.view.placement.rules };
}

/**
 * The cached request is still the object decided, neither being deleted nor revoked, and holds no
 * approval of its own (someone else's status is left to the next reconcile).
 */
export function stillDecided(cur: AccessRequest, uid: string | undefined): boolean {
  if (cur.metadata.uid !== uid || cur.metadata.deletionTimestamp !== undefined) return false;
  return cur.spec.revoked !== true && cur.status?.startTime === undefined;
}

/** Every NSG carries the grant, and none rejected or failed it. */
function placed(v: AtSendFacts["view"]): boolean {
  return v.placement.complete && v.rejected === undefined && v.failed === undefined;
}
