// Priority allocation inside a policy's band. New rules never take a priority any observed Inbound
// rule holds (even one about to be deleted), so the planned PUTs and DELETEs can be applied in any
// order without Azure refusing a duplicate priority. Cursors make a plan O(band + rules).
import type { PriorityRange } from "../api/types.ts";

/** Azure's priorities fit a bitmap; whatever else an input may hold goes to a Set. */
const BITMAP_SIZE = 4097;

export interface PrioritySet {
  bits: Uint8Array;
  other: Set<number> | undefined;
}

export function newPrioritySet(values: Iterable<number> = []): PrioritySet {
  const s: PrioritySet = { bits: new Uint8Array(BITMAP_SIZE), other: undefined };
  for (const p of values) addPriority(s, p);
  return s;
}

function inBitmap(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p < BITMAP_SIZE;
}

export function hasPriority(s: PrioritySet, p: number): boolean {
  return inBitmap(p) ? s.bits[p] === 1 : (s.other?.has(p) ?? false);
}

export function addPriority(s: PrioritySet, p: number): void {
  if (inBitmap(p)) s.bits[p] = 1;
  else (s.other ??= new Set()).add(p);
}

export interface PriorityAllocator {
  taken: PrioritySet;
  /** Per band: every priority below the cursor is taken. */
  low: Map<string, number>;
  /** Per band: every priority above the cursor is taken. */
  high: Map<string, number>;
}

export function newAllocator(taken: Iterable<number>): PriorityAllocator {
  return { taken: newPrioritySet(taken), low: new Map(), high: new Map() };
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
  while (p <= band.to && hasPriority(a.taken, p)) p++;
  a.low.set(key, p);
  if (p > band.to || p >= below) return undefined;
  addPriority(a.taken, p);
  a.low.set(key, p + 1);
  return p;
}

/** The highest free priority in the band; claimed when found. */
export function allocateHigh(a: PriorityAllocator, band: PriorityRange): number | undefined {
  const key = bandKey(band);
  let p = a.high.get(key) ?? band.to;
  while (p >= band.from && hasPriority(a.taken, p)) p--;
  a.high.set(key, p);
  if (p < band.from) return undefined;
  addPriority(a.taken, p);
  a.high.set(key, p - 1);
  return p;
}
