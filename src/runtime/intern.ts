// One copy of each repeated string in the informer caches. V8's JSON.parse makes a fresh copy of
// every string value longer than ten characters, so 100,000 cached AccessRequests held 100,000
// copies each of their namespace, policy name, target id, condition messages and the like. The
// table is bounded: when it is full it starts over, so a stream of unique strings costs at most
// `maxEntries` entries and the values that repeat are simply taken in again. ARM resource ids have
// a table of their own (`maxIds`), which the requests' unique values never make start over.

export interface InternOptions {
  /** Distinct strings the table holds before it starts over. Default 20,000. */
  maxEntries?: number;
  /** Distinct ARM resource ids the table holds before it starts over, apart from the rest. Default 100,000. */
  maxIds?: number;
  /** Longer strings are left as they are (rarely repeated, dear to hash). Default 256. */
  maxLength?: number;
}

/** How every ARM resource id starts (as the API serves them and policies name them). */
const ARM_ID_HEAD = "/subscriptions/";

export class Interner {
  readonly #table = new Map<string, string>();
  /**
   * ARM resource ids (targets, NSG ids: 100-200 characters each) in a table of their own. Their
   * number is the estate's (the resources policies name), not the requests'; in the shared table
   * the requests' own values (sources, timestamps, messages: several new ones per request) made it
   * start over every few thousand requests, and every request kept its own copy of its target id
   * (~160 bytes) when an estate has more NSGs than that (bench/request-heap.ts).
   */
  readonly #ids = new Map<string, string>();
  readonly #maxEntries: number;
  readonly #maxIds: number;
  readonly #maxLength: number;

  constructor(opts: InternOptions = {}) {
    this.#maxEntries = opts.maxEntries ?? 20_000;
    this.#maxIds = opts.maxIds ?? 100_000;
    this.#maxLength = opts.maxLength ?? 256;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1)
      throw new Error(`intern: maxEntries must be a positive integer, got ${String(opts.maxEntries)}`);
    if (!Number.isInteger(this.#maxIds) || this.#maxIds < 1)
      throw new Error(`intern: maxIds must be a positive integer, got ${String(opts.maxIds)}`);
    if (!Number.isInteger(this.#maxLength) || this.#maxLength < 0)
      throw new Error(`intern: maxLength must be a non-negative integer, got ${String(opts.maxLength)}`);
  }

  /** The table's copy of `s` (equal to `s`); `s` itself when it is new or too long. */
  intern(s: string): string {
    if (s.length > this.#maxLength) return s;
    const isId = s.startsWith(ARM_ID_HEAD);
    const table = isId ? this.#ids : this.#table;
    const known = table.get(s);
    if (known !== undefined) return known;
    if (table.size >= (isId ? this.#maxIds : this.#maxEntries)) table.clear();
    table.set(s, s);
    return s;
  }

  /** Distinct strings held now (ids included). */
  get size(): number {
    return this.#table.size + this.#ids.size;
  }
}

/**
 * Object keys whose values are unique per object (or per rule) and never repeat across objects:
 * not worth a table entry.
 */
const UNIQUE_VALUES: ReadonlySet<string> = new Set([
  "uid",
  "resourceVersion",
  "name",
  "generateName",
  "approvalSignature",
  "ruleName",
]);

/**
 * Replaces, in place, every string value of `obj` (at any depth, arrays included) by the table's
 * equal copy. Only the identity of strings changes, never a value, a key or the shape.
 */
export function internStrings(obj: object, table: Interner): void {
  if (Array.isArray(obj)) {
    const arr = obj as unknown[];
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (typeof v === "string") arr[i] = table.intern(v);
      else if (typeof v === "object" && v !== null) internStrings(v, table);
    }
    return;
  }
  const rec = obj as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    const v = rec[key];
    if (typeof v === "string") {
      if (!UNIQUE_VALUES.has(key)) rec[key] = table.intern(v);
    } else if (typeof v === "object" && v !== null) internStrings(v, table);
  }
}
