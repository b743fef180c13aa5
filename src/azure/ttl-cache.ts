// An async cache with expiry and in-flight dedupe: concurrent lookups of one key share a single
// load, a failed load is not cached, and an entry older than the TTL is loaded again.

interface Entry<V> {
  value: V;
  loadedAt: number;
}

export class AsyncTtlCache<V> {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry<V>>();
  readonly #inflight = new Map<string, Promise<V>>();
  #loads = 0;

  constructor(opts: { ttlMs: number; now: () => number; maxEntries?: number }) {
    if (!Number.isFinite(opts.ttlMs) || opts.ttlMs < 0) {
      throw new RangeError(`vmCacheTtlMs must be a non-negative number of milliseconds, got ${opts.ttlMs}`);
    }
    this.#ttlMs = opts.ttlMs;
    this.#now = opts.now;
    this.#maxEntries = opts.maxEntries ?? 10_000;
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.#entries.get(key);
    if (hit !== undefined && this.#now() - hit.loadedAt < this.#ttlMs) return hit.value;
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return pending;
    const p = this.#load(key, load);
    this.#inflight.set(key, p);
    return p;
  }

  async #load(key: string, load: () => Promise<V>): Promise<V> {
    this.#loads++;
    try {
      const value = await load();
      this.#entries.delete(key); // re-insert so Map order tracks recency for eviction
      this.#entries.set(key, { value, loadedAt: this.#now() });
      this.#evict();
      return value;
    } finally {
      this.#inflight.delete(key);
    }
  }

  #evict(): void {
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) return;
      this.#entries.delete(oldest.value);
    }
  }

  invalidate(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Number of loads started (for tests and metrics). */
  get loads(): number {
    return this.#loads;
  }
}
