// How an approval's status write may also say Active (ADR 0021): between the finalizer and the
// status write it waits (bounded, without a write slot) for the NSG rules, and the status is
// composed when the write is sent. The reconciler supplies what it reads at each moment.
import type { AccessRequest, AccessRequestStatus } from "../../api/types.ts";
import type { Clock } from "../../runtime/clock.ts";
import { grantAtSend, stillDecided } from "./grant-at-send.ts";
import type { AtSendFacts, GrantedAtSend } from "./grant-at-send.ts";
import type { PlacementWaits } from "./placement-waits.ts";

export interface ApprovalWrite {
  /** Resolves when the status should be sent: the rules are in place, or waiting longer does not pay. */
  ready(): Promise<void>;
  /** The approval as Active when every NSG carries it by the time the write is sent. */
  atSend(approval: AccessRequestStatus): GrantedAtSend | undefined;
}

export interface ApprovalWriteInputs {
  key: string;
  /** The uid of the object decided. */
  uid: string | undefined;
  /** When waiting for the rules ends (epoch ms): the decision + the grant wait. */
  deadline: number;
  clock: Clock;
  waits: PlacementWaits;
  /** The request as cached now. */
  current(): AccessRequest | undefined;
  /** Whether the NSGs plan with the approval in flight now (ADR 0016). */
  early(): boolean;
  /** The NSG ledger's view of the approval's grants now. */
  view(): AtSendFacts["view"];
}

export function approvalWrite(i: ApprovalWriteInputs): ApprovalWrite {
  return {
    ready: () => placedOrLate(i),
    atSend: (approval) =>
      grantAtSend({
        approval,
        uid: i.uid,
        current: i.current(),
        early: i.early(),
        view: i.view(),
        now: i.clock.now(),
      }),
  };
}

/**
 * Until every NSG carries the early approval (or rejected or failed it), the approval is no longer
 * early, the request is no longer the one decided or is being deleted or revoked, or the deadline
 * passes.
 */
async function placedOrLate(i: ApprovalWriteInputs): Promise<void> {
  for (;;) {
    const left = i.deadline - i.clock.now().getTime();
    if (left <= 0 || !i.early()) return;
    const cur = i.current();
    if (cur === undefined || !stillDecided(cur, i.uid)) return;
    const v = i.view();
    if (v.placement.complete || v.rejected !== undefined || v.failed !== undefined) return;
    await i.waits.next(i.key, left);
  }
}
