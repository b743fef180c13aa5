// Sorting and searching the short string lists the planner builds per rule. Array#sort allocates
// work space on every call, and a builtin call (indexOf, includes) costs more than a plain loop over
// two or three entries; the planner does both hundreds of times per plan.

/** Up to this length an insertion sort is used. */
const SHORT = 16;

/** list.indexOf(value) (strict equality, as includes for strings), by a plain loop. */
export function indexOfString(list: readonly string[], value: string): number {
  for (let i = 0; i < list.length; i++) if (list[i] === value) return i;
  return -1;
}

/** Azure's highest priority: priorities up to it are sorted by counting. */
const MAX_PRIORITY = 4096;

/**
 * A copy of `items` stably sorted by priority, as items.slice().sort((a, b) => a.priority -
 * b.priority) returns it: by counting (two passes, no comparisons) when every priority is an integer
 * in 0..4096, as Azure's are; by Array#sort otherwise.
 */
export function sortedByPriority<T extends { priority: number }>(items: T[]): T[] {
  const starts = new Int32Array(MAX_PRIORITY + 2);
  for (const item of items) {
    const p = item.priority;
    if (!Number.isInteger(p) || p < 0 || p > MAX_PRIORITY) {
      return items.slice().sort((a, b) => a.priority - b.priority);
    }
    starts[p + 1] = (starts[p + 1] ?? 0) + 1;
  }
  for (let p = 1; p < starts.length; p++) starts[p] = (starts[p] ?? 0) + (starts[p - 1] ?? 0);
  const out = items.slice();
  for (const item of items) {
    const at = starts[item.priority] ?? 0;
    out[at] = item;
    starts[item.priority] = at + 1;
  }
  return out;
}

/** Sorts `list` in place exactly as `list.sort()` does (stable, by UTF-16 code units) and returns it. */
export function sortStrings(list: string[]): string[] {
  if (list.length > SHORT) return list.sort();
  for (let i = 1; i < list.length; i++) {
    const v = list[i] ?? "";
    let j = i - 1;
    for (; j >= 0 && (list[j] ?? "") > v; j--) list[j + 1] = list[j] ?? "";
    list[j + 1] = v;
  }
  return list;
}
