// One copy of each small repeated part of the cached objects. Most active AccessRequests carry the
// same finalizer list, port list, approved ports and, for requests approved together, the same
// conditions; each was a separate array or object per request. Parts shared between objects are
// frozen: nothing in the operator writes to a cached object, and were something to try, it fails
// loudly instead of changing every request that shares the part (and what access they hold).

export interface ShareOptions {
  /** Distinct parts the table holds before it starts over. Default 5,000. */
  maxEntries?: number;
}

/** Parts with more entries, or a longer identity text, are left alone (rarely repeated). */
const MAX_ENTRIES_PER_PART = 8;
const MAX_TEXT = 512;

export class PartTable {
  readonly #table = new Map<string, object>();
  readonly #maxEntries: number;
  /**
   * A number per part the table holds, for the identity text of the parts that contain it. Shared
   * parts are frozen, so a number always stands for the same value; numbers are never reused, also
   * after the table starts over (and forgets the parts it held with their numbers).
   */
  readonly #ids = new Map<object, number>();
  #nextId = 0;

  constructor(opts: ShareOptions = {}) {
    this.#maxEntries = opts.maxEntries ?? 5_000;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1)
      throw new Error(`share: maxEntries must be a positive integer, got ${String(opts.maxEntries)}`);
  }

  /**
   * The table's frozen part equal to `part` (see shareable: primitives and parts of this table
   * only); `part`, frozen, when new; `part` as it is when it cannot be told by a short text.
   */
  share(part: object): object {
    const text = this.#identity(part);
    if (text === undefined || text.length > MAX_TEXT) return part;
    const known = this.#table.get(text);
    if (known !== undefined) return known;
    if (this.#table.size >= this.#maxEntries) {
      this.#table.clear();
      this.#ids.clear();
    }
    this.#table.set(text, Object.freeze(part));
    this.#ids.set(part, this.#nextId++);
    return part;
  }

  /**
   * Array or object, and each entry's key and value, a contained part by its number: equal texts
   * mean equal values (a string never encodes as an object), and the text stays short however
   * large the contained parts are (four conditions of a request: ~40 characters instead of ~700).
   * Undefined when a contained part is not this table's.
   */
  #identity(part: object): string | undefined {
    const entries: unknown[] = [];
    for (const [key, v] of Object.entries(part) as [string, unknown][]) {
      if (typeof v !== "object" || v === null) {
        entries.push(key, v);
        continue;
      }
      const id = this.#ids.get(v);
      if (id === undefined) return undefined;
      entries.push(key, { part: id });
    }
    return JSON.stringify([Array.isArray(part) ? "array" : "object", entries]);
  }

  get size(): number {
    return this.#table.size;
  }
}

/** An array, or an object whose prototype is an Object.prototype (of any realm) or null. */
function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as object | null;
  return Array.isArray(v) || proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * Whether `part` may be shared: a plain object or array of at most MAX_ENTRIES_PER_PART entries,
 * each a string, boolean, null, finite number (not -0: JSON cannot tell it from 0, nor NaN and the
 * infinities from null) or a shared part.
 */
function shareable(part: object): boolean {
  if (!isPlain(part)) return false;
  const values = Object.values(part) as unknown[];
  if (values.length > MAX_ENTRIES_PER_PART) return false;
  for (const v of values) {
    if (typeof v === "object") {
      if (v !== null && !Object.isFrozen(v)) return false;
    } else if (typeof v === "number") {
      if (Object.is(v, -0) || !Number.isFinite(v)) return false;
    } else if (typeof v !== "string" && typeof v !== "boolean") return false;
  }
  return true;
}

/**
 * Replaces, in place, the small parts below the top level of `obj` (metadata, spec and status
 * themselves stay) by the table's equal frozen copies, innermost first.
 */
export function shareParts(obj: object, table: PartTable): void {
  for (const v of Object.values(obj) as unknown[])
    if (typeof v === "object" && v !== null && isPlain(v)) shareBelow(v, table);
}

function shareBelow(parent: object, table: PartTable): void {
  const rec = parent as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    const v = rec[key];
    if (typeof v !== "object" || v === null || Object.isFrozen(v)) continue;
    shareBelow(v, table);
    if (shareable(v)) rec[key] = table.share(v);
  }
}
