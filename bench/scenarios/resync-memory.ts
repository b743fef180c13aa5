// The resync scenario's memory figures beside peak RSS: how much heap the estate holds per 1,000
// grants, and the RSS the operator starts from before any object (docs/performance.md, Memory).
import { BUNDLE_STEP, SOURCES_STEP, memoryFloor } from "../memory-floor.ts";
import type { FloorStep } from "../memory-floor.ts";
import { sumOf } from "../operator.ts";
import type { MetricSamples } from "../operator.ts";

export interface MemoryFigures {
  /** what the operator ran: the image's bundle (the default) or the TypeScript sources */
  operator_code: "bundle" | "sources";
  /** V8 heapUsed of the operator after the measured resync settled (nodejs_heap_size_used_bytes) */
  heap_used_mib: number;
  /** heap_used_mib / (grants / 1000); includes the libraries' own heap (memory_floor) */
  heap_mib_per_1000_grants: number;
  /** (heap_used_mib - the heap of the same code before any object) / (grants / 1000): the estate's share */
  estate_heap_mib_per_1000_grants: number;
  /** RSS of the same operator code after loading, before any object (memory_floor) */
  rss_floor_mib: number;
}

const round = (v: number, d: number): number => Math.round(v * d) / d;

export function memoryFigures(
  m: MetricSamples,
  grants: number,
  floor: FloorStep[],
  code: MemoryFigures["operator_code"],
): MemoryFigures {
  const heap = sumOf(m, "nodejs_heap_size_used_bytes") / 2 ** 20;
  const base = floor.find((f) => f.step === (code === "bundle" ? BUNDLE_STEP : SOURCES_STEP));
  const per1000 = (mib: number): number => (grants > 0 ? round(mib / (grants / 1000), 100) : NaN);
  return {
    operator_code: code,
    heap_used_mib: round(heap, 10),
    heap_mib_per_1000_grants: per1000(heap),
    estate_heap_mib_per_1000_grants: per1000(heap - (base?.heap_used_mib ?? NaN)),
    rss_floor_mib: base?.rss_mib ?? NaN,
  };
}

/** The memory floor; informational, so a failure is recorded as a step, not thrown. */
export function floorOrFailure(): Promise<FloorStep[]> {
  return memoryFloor().catch((err: unknown) => [
    { step: `failed: ${String(err).slice(0, 300)}`, rss_mib: NaN, heap_used_mib: NaN },
  ]);
}
