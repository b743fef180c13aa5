// The cost curve: the converged-resync scenario at growing estates (e.g. 100 -> 2,000 -> 20,000
// NSGs with five active grants each), the NSGs spread over several subscriptions. Each size gets
// its own namespace, subscriptions and operator on the same stack, so one size's objects are never
// listed or watched by the next one's operator. Beside each size, the naive design's reads (one GET
// per NSG per resync).
import type { Stack } from "../stack.ts";
import { runResync } from "./resync.ts";
import type { ResyncResults } from "./resync.ts";

export interface EstateSize {
  nsgs: number;
  grants: number;
  /** at most 100 NSG targets per policy */
  policies: number;
  subscriptions: number;
  intervalS: number;
  timeoutMs?: number;
  /** Operator old-space limit (MiB) instead of the shipped 256. */
  heapMiB?: number;
}

export interface EstateRun extends ResyncResults {
  /** wall time of this size: seeding, start-up and two resync periods */
  wall_seconds: number;
  /** 1/5/15-minute load average when the size started */
  load: number[];
}

export interface EstateResults {
  sizes: EstateRun[];
}

/** Each finished size is pushed to `out` at once, so a later size's failure keeps the earlier ones. */
export async function runEstate(
  stack: Stack,
  sizes: EstateSize[],
  load: () => number[],
  results: EstateResults = { sizes: [] },
): Promise<EstateResults> {
  const out = results.sizes;
  for (const size of sizes) {
    const started = Date.now();
    const atStart = load();
    stack.log(`estate: ${size.nsgs} NSGs / ${size.grants} grants over ${size.subscriptions} subscriptions`);
    const r = await runResync(stack, {
      ...size,
      namespacePrefix: `bench-estate-${size.nsgs}`,
      memoryFloor: false,
    });
    out.push({ ...r, wall_seconds: Math.round((Date.now() - started) / 100) / 10, load: atStart });
  }
  return results;
}

/**
 * "20000/100000,2000/10000/512": NSGs/grants[/operator heap MiB] per size, 8 subscriptions, 100
 * targets per policy. Without a heap, sizes of 10,000 NSGs and more run in a 2 GiB heap (the shipped
 * 256 MiB runs out at 20,000 NSGs) and smaller ones in the shipped heap; a heap of its own shows what
 * the RSS target needs, since V8 grows RSS lazily up to whatever heap it may use.
 */
export function parseEstateSizes(text: string): EstateSize[] {
  return text.split(",").map((part) => {
    const m = /^\s*(\d+)\/(\d+)(?:\/(\d+))?\s*$/.exec(part);
    if (m === null) {
      throw new Error(`--estate-sizes: "${part}" is not NSGs/grants[/heap MiB] (e.g. 20000/100000/512)`);
    }
    const nsgs = Number(m[1]);
    const grants = Number(m[2]);
    const heap = m[3] === undefined ? undefined : Number(m[3]);
    if (nsgs < 1 || nsgs > 0xffff) throw new Error(`--estate-sizes: ${nsgs} NSGs outside 1..65535`);
    if (grants > 131_072)
      throw new Error(`--estate-sizes: ${grants} grants exceed the 131,072 bench sources`);
    if (heap !== undefined && (heap < 128 || heap > 16_384))
      throw new Error(`--estate-sizes: operator heap ${heap} MiB outside 128..16384`);
    const heapMiB = heap ?? (nsgs >= 10_000 ? 2048 : undefined);
    return {
      nsgs,
      grants,
      policies: Math.ceil(nsgs / 100),
      subscriptions: 8,
      intervalS: nsgs >= 10_000 ? 60 : 30,
      timeoutMs: 1_800_000,
      ...(heapMiB === undefined ? {} : { heapMiB }),
    };
  });
}
