// metav1.Condition bookkeeping: lastTransitionTime moves only when status flips, so a status that
// did not change compares equal and is not patched again.
import type { Condition } from "../api/types.ts";

export interface ConditionInput {
  type: string;
  status: Condition["status"];
  reason: string;
  message: string;
}

/** The conditions with `next` set, keeping the old lastTransitionTime when the status is unchanged. */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionInput,
  now: Date,
  observedGeneration: number | undefined,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const old = i >= 0 ? list[i] : undefined;
  const cond: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message,
    lastTransitionTime:
      old !== undefined && old.status === next.status ? old.lastTransitionTime : now.toISOString(),
  };
  if (observedGeneration !== undefined) cond.observedGeneration = observedGeneration;
  if (i >= 0) list[i] = cond;
  else list.push(cond);
  return list;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Structural equality of JSON-like values, key order ignored (for "did the status change?"). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}
