// A binary min-heap ordered by a numeric priority. The work queue's DelayHeap keeps one entry per key
// in it so that thousands of pending expiries cost O(log n) each and a single timer for the minimum.

export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #priority: (item: T) => number;

  constructor(priority: (item: T) => number) {
    this.#priority = priority;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const a = this.#items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  /** Keep only items matching `keep` (used to drop cancelled entries in bulk), then re-heapify. */
  filter(keep: (item: T) => boolean): void {
    const kept = this.#items.filter(keep);
    this.#items.length = 0;
    this.#items.push(...kept);
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  #siftDown(start: number): void {
    const n = this.#items.length;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(l, m)) m = l;
      if (r < n && this.#less(r, m)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #less(i: number, j: number): boolean {
    return this.#priority(this.#items[i] as T) < this.#priority(this.#items[j] as T);
  }

  #swap(i: number, j: number): void {
    const a = this.#items;
    const t = a[i] as T;
    a[i] = a[j] as T;
    a[j] = t;
  }
}
