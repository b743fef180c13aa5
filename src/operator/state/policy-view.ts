// One policy's active grants, sorted, kept as its requests change: a changed request's grants are
// taken out and put in by binary search instead of the whole list being collected and sorted again
// (which cost O(N log N) per decision, O(N^2) over a burst). Expired grants are swept out once the
// clock reaches the earliest expiry; the list handed out is a snapshot, replaced (never changed)
// whenever the view changes, so the same array always means the same grants (see the NSG
// reconciler's sameInputs).
import type { Grant } from "../../core/types.ts";
import { PrefixUnion } from "../../core/prefix-union.ts";
import { ruleKey } from "../../core/source-union.ts";

/** Above this many grants of one request, a change is merged in one pass instead of by splices. */
const SPLICE_MAX = 8;

export class PolicyView {
  readonly #compare: (a: Grant, b: Grant) => number;
  /** Every grant not swept yet, sorted with #compare; none expired before #nextExpiry. */
  #sorted: Grant[] = [];
  #snapshot: Grant[] | undefined;
  /** At most the earliest expiry among #sorted (a removal may leave it early: a sweep then finds nothing). */
  #nextExpiry = Infinity;
  /** The sources each allow rule carries, by ruleKey; built when first asked for, then kept. */
  #rules: Map<string, PrefixUnion> | undefined;

  constructor(compare: (a: Grant, b: Grant) => number, grants: Iterable<Grant>) {
    this.#compare = compare;
    this.add([...grants]);
  }

  /** The unexpired grants at `t`, sorted; the same array until the view changes. */
  grants(t: number): Grant[] {
    this.#sweep(t);
    return (this.#snapshot ??= this.#sorted.slice());
  }

  /** The union of the sources of each rule at `t` (read only; see PrefixUnion). */
  rules(t: number): ReadonlyMap<string, PrefixUnion> {
    this.#sweep(t);
    if (this.#rules === undefined) {
      this.#rules = new Map();
      for (const g of this.#sorted) this.#ruleAdd(g);
    }
    return this.#rules;
  }

  /** The grants, unexpired at `t`, without a snapshot (not to be kept). */
  current(t: number): readonly Grant[] {
    this.#sweep(t);
    return this.#sorted;
  }

  add(grants: readonly Grant[]): void {
    if (grants.length === 0) return;
    const mine = grants.slice().sort(this.#compare);
    if (mine.length <= SPLICE_MAX) for (const g of mine) this.#sorted.splice(this.#upperBound(g), 0, g);
    else this.#sorted = merge(this.#sorted, mine, this.#compare);
    for (const g of mine) {
      this.#nextExpiry = Math.min(this.#nextExpiry, g.expiresAt.getTime());
      this.#ruleAdd(g);
    }
    this.#snapshot = undefined;
  }

  /** Take these grants out (those already swept are skipped). */
  remove(grants: readonly Grant[]): void {
    let gone: Grant[];
    if (grants.length <= SPLICE_MAX) {
      gone = grants.filter((g) => {
        const i = this.#indexOf(g);
        if (i >= 0) this.#sorted.splice(i, 1);
        return i >= 0;
      });
    } else {
      const set = new Set(grants);
      gone = this.#sorted.filter((g) => set.has(g));
      if (gone.length > 0) this.#sorted = this.#sorted.filter((g) => !set.has(g));
    }
    for (const g of gone) this.#ruleRemove(g);
    if (gone.length > 0) this.#snapshot = undefined;
  }

  get size(): number {
    return this.#sorted.length;
  }

  #sweep(t: number): void {
    if (t < this.#nextExpiry) return;
    const kept: Grant[] = [];
    let next = Infinity;
    for (const g of this.#sorted) {
      const e = g.expiresAt.getTime();
      if (e <= t) {
        this.#ruleRemove(g);
        continue;
      }
      kept.push(g);
      if (e < next) next = e;
    }
    if (kept.length !== this.#sorted.length) this.#snapshot = undefined;
    this.#sorted = kept;
    this.#nextExpiry = next;
  }

  #ruleAdd(g: Grant): void {
    if (this.#rules === undefined) return;
    const key = ruleKey(g.targetId, g.port, g.protocol);
    let u = this.#rules.get(key);
    if (u === undefined) this.#rules.set(key, (u = new PrefixUnion()));
    u.add(g.sourcePrefix);
  }

  #ruleRemove(g: Grant): void {
    if (this.#rules === undefined) return;
    const key = ruleKey(g.targetId, g.port, g.protocol);
    const u = this.#rules.get(key);
    u?.remove(g.sourcePrefix);
    if (u?.empty === true) this.#rules.delete(key);
  }

  #lowerBound(g: Grant): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#sorted[mid];
      if (m !== undefined && this.#compare(m, g) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Past the last grant that sorts before or with `g` (equal grants keep their order). */
  #upperBound(g: Grant): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#sorted[mid];
      if (m !== undefined && this.#compare(m, g) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Where this very grant object is, or -1 (equal grants are told apart by identity). */
  #indexOf(g: Grant): number {
    for (let i = this.#lowerBound(g); i < this.#sorted.length; i++) {
      const m = this.#sorted[i];
      if (m === g) return i;
      if (m === undefined || this.#compare(m, g) !== 0) break;
    }
    return -1;
  }
}

function merge(a: Grant[], b: Grant[], compare: (x: Grant, y: Grant) => number): Grant[] {
  const out: Grant[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as Grant;
    const y = b[j] as Grant;
    if (compare(y, x) < 0) {
      out.push(y);
      j++;
    } else {
      out.push(x);
      i++;
    }
  }
  while (i < a.length) out.push(a[i++] as Grant);
  while (j < b.length) out.push(b[j++] as Grant);
  return out;
}
