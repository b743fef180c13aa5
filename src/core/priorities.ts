// Priority allocation inside a policy's band. New rules never take a priority any observed Inbound
// rule holds (even one about to be deleted), so the planned PUTs and DELETEs can be applied in any
// order without Azure refusing a duplicate priority. Cursors make a plan O(band + rules).
import type { PriorityRange } from "../api/types.ts";

export interface PriorityAllocator {
  taken: Set<number>;
  /** Per band: every priority below the cursor is taken. */
  low: Map<string, number>;
  /** Per band: every priority above the cursor is taken. */
  high: Map<string, number>;
}

export function newAllocator(taken: Iterable<number>): PriorityAllocator {
  return { taken: new Set(taken), low: new Map(), high: new Map() };
}

function bandKey(band: PriorityRange): string {
  return `${band.from}-${band.to}`;
}

export function inBand(priority: number, band: PriorityRange): boolean {
  return priority >= band.from && priority <= band.to;
}

/** The lowest free priority in the band that is below `below`; claimed when found. */
export function allocateLow(a: PriorityAllocator, band: PriorityRange, below: number): number | undefined {
  const key = bandKey(band);
  let p = a.low.get(key) ?? band.from;
  while (p <= band.to && a.taken.has(p)) p++;
  a.low.set(key, p);
  if (p > band.to || p >= below) return undefined;
  a.taken.add(p);
  a.low.set(key, p + 1);
  return p;
}

/** The highest free priority in the band; claimed when found. */
export function allocateHigh(a: PriorityAllocator, band: PriorityRange): number | undefined {
  const key = bandKey(band);
  let p = a.high.get(key) ?? band.to;
  while (p >= band.from && a.taken.has(p)) p--;
  a.high.set(key, p);
  if (p < band.from) return undefined;
  a.taken.add(p);
  a.high.set(key, p - 1);
  return p;
}
