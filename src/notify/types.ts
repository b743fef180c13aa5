// What the operator tells webhooks about AccessRequests, independent of any message format.
import type { NotificationType } from "../api/types.ts";

export type { NotificationType };

export const NOTIFICATION_TYPES: readonly NotificationType[] = [
  "Requested",
  "AwaitingApproval",
  "Approved",
  "Rejected",
  "Denied",
  "Opened",
  "ExpiringSoon",
  "Closed",
];

export interface Notification {
  type: NotificationType;
  /** Unique per notification: the CloudEvents id and the receiver's de-duplication key. */
  id: string;
  /** ISO time the operator saw it happen. */
  time: string;
  namespace: string;
  request: string;
  uid: string;
  policy: string;
  requester: string;
  ports: number[];
  sourceAddressPrefix: string;
  justification: string;
  /** The phase reason (e.g. Rejected, ApprovalTimedOut, Expired) and its message. */
  reason?: string;
  message?: string;
  expiresAt?: string;
  /** "1/2" while approvals are collected. */
  approvals?: string;
}

/** Handed to the reconcilers: returns at once, whatever the webhooks do. */
export type RequestNotifier = (n: Notification) => void;
