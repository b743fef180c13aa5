// Work-queue keys: requests and policies are keyed "namespace/name" (objectKey, src/core/keys.ts),
// NSGs by their normalized (lower-case) ARM id so two spellings of one NSG share one key.
import { normalizeId } from "../../azure/ids.ts";

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function nsgKey(nsgId: string): string {
  return normalizeId(nsgId);
}

/** The subscription id of an ARM id, or undefined when the id names none. */
export function subscriptionOf(armId: string): string | undefined {
  const m = /^\/subscriptions\/([^/]+)\//i.exec(armId);
  return m?.[1]?.toLowerCase();
}
