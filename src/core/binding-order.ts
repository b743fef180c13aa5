// The order of bindings in a plan: by the policy key, a
// line feed, then the lower-cased ARM id, compared by UTF-16 code units. Compared here from the
// policy key and the lower-cased id without joining them into one more string per binding; a line
// feed inside a policy key (which the join would compare against the other key's text) falls back
// to the joined text.

interface Keyed {
  policyKey: string;
  /** targetId.toLowerCase() */
  lowerTargetId: string;
}

const LINE_FEED = 10;

/** Sign of comparing `p1 + "\n"` with `p2 + "\n"` over their common length, or NaN when unsure. */
function policyOrder(p1: string, p2: string): number {
  const n = Math.min(p1.length, p2.length);
  for (let i = 0; i < n; i++) {
    const d = p1.charCodeAt(i) - p2.charCodeAt(i);
    if (d !== 0) return d;
  }
  if (p1.length === p2.length) return 0;
  // One key holds the line feed where the other still has policy text.
  const next = p1.length < p2.length ? p2.charCodeAt(n) : p1.charCodeAt(n);
  if (next === LINE_FEED) return Number.NaN;
  return p1.length < p2.length ? LINE_FEED - next : next - LINE_FEED;
}

function order(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Negative, zero or positive as `${a.policyKey}\n${a.lowerTargetId}` is below, equal to or above that of b. */
export function compareBindingKeys(a: Keyed, b: Keyed): number {
  const d = a.policyKey === b.policyKey ? 0 : policyOrder(a.policyKey, b.policyKey);
  if (d === 0) return order(a.lowerTargetId, b.lowerTargetId);
  if (!Number.isNaN(d)) return d;
  return order(`${a.policyKey}\n${a.lowerTargetId}`, `${b.policyKey}\n${b.lowerTargetId}`);
}
