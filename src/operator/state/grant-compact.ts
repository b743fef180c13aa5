// The grant index's grants, held with as few strings as they need. Each grant the core makes carries
// its own request key and policy key (text built per grant), and sorting used to cache a third
// string per grant (policy, target and request joined, ~200 characters with an ARM id): ~0.45 KiB a
// grant in all (bench/request-heap.ts). Here: one copy of each key and of each expiry Date, each
// request's grants in an array of their exact length, and a comparison that reads the three fields
// in place and orders exactly as compareGrants does.
import { compareGrants } from "../../core/index.ts";
import type { Grant } from "../../core/types.ts";
import { Interner } from "../../runtime/intern.ts";

/** "\n", the separator of compareGrants' joined keys. */
const SEPARATOR = 10;

/**
 * How `${x}\n...` orders against `${y}\n...` from x and y alone: -1 or 1, 0 when x and y are equal
 * (the rest decides), NaN when it cannot tell cheaply. Text order differs from the joined keys'
 * order only when the shorter is a prefix of the longer and the longer goes on with a character up
 * to the separator (then the separator and what follows it decide); such pairs return NaN.
 */
function segmentOrder(x: string, y: string): number {
  if (x === y) return 0;
  if (x.length !== y.length) {
    const next = x.length < y.length ? y.charCodeAt(x.length) : x.charCodeAt(y.length);
    if (next <= SEPARATOR) return NaN;
  }
  return x < y ? -1 : 1;
}

/**
 * compareGrants' order (policy key, target, request key joined by "\n", then port and protocol)
 * without building the joined text: the rare ties and prefixes are left to compareGrants itself.
 */
export function compareGrantsInPlace(a: Grant, b: Grant): number {
  let o = segmentOrder(a.policyKey, b.policyKey);
  if (o === 0) o = segmentOrder(a.targetId, b.targetId);
  // The last segment has nothing after it: plain text order is the joined keys' order.
  if (o === 0) o = a.requestKey === b.requestKey ? NaN : a.requestKey < b.requestKey ? -1 : 1;
  return Number.isNaN(o) ? compareGrants(a, b) : o;
}

/** Distinct expiry instants the table holds before it starts over. */
const MAX_DATES = 10_000;

/**
 * One copy of what the grants of many requests have in common: the policy key (one per policy),
 * the expiry Date (one per instant; a Date costs ~110 bytes and requests approved together expire
 * together) and the request's own source text (normalized, it is an equal copy per grant). Shared
 * Dates are never written to: nothing in the operator sets a Date's time.
 */
export class GrantSharing {
  readonly #policyKeys = new Interner({ maxEntries: 10_000 });
  readonly #dates = new Map<number, Date>();

  /**
   * The grants of one request as the index keeps them: in an array of their exact length (an
   * array grown by push keeps room for 17), every grant pointing at the same request key
   * (`requestKey`, the index's own), the table's policy key and Date, and `source` (the request's
   * spec.sourceAddressPrefix) when its normalized text is equal. Only identity changes: a value
   * that differs is kept.
   */
  compact(grants: readonly Grant[], requestKey: string, source: string): Grant[] {
    for (const g of grants) {
      if (g.requestKey === requestKey) g.requestKey = requestKey;
      if (g.sourcePrefix === source) g.sourcePrefix = source;
      g.policyKey = this.#policyKeys.intern(g.policyKey);
      g.expiresAt = this.#date(g.expiresAt);
    }
    return grants.slice();
  }

  #date(d: Date): Date {
    const t = d.getTime();
    const known = this.#dates.get(t);
    if (known !== undefined) return known;
    if (this.#dates.size >= MAX_DATES) this.#dates.clear();
    this.#dates.set(t, d);
    return d;
  }
}
