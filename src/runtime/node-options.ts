// The V8 heap settings the operator is run with (the image's NODE_OPTIONS, the chart's
// operator.nodeOptions, and the benchmark). Without them V8 lets the heap grow far beyond what is
// live before collecting: at 2,000 NSGs and 10,000 requests the resident set was 539 MiB with
// ~120 MiB of live heap, and 273 MiB with these caps. A small new space (2 MiB semi-spaces) keeps
// the burst of short-lived objects of each resync page from inflating the resident set; the old
// space cap leaves room for ~50,000 requests (about 10 KiB of heap each) above the ~75 MiB that the
// libraries themselves hold.
export const OPERATOR_NODE_OPTIONS = "--max-old-space-size=256 --max-semi-space-size=2";

/**
 * The environment beside NODE_OPTIONS (the image's ENV, the chart's operator.mallocArenaMax, the
 * benchmark). glibc gives each thread that allocates under contention an arena of its own, up to
 * eight per core; memory freed in an arena is kept for that arena's next allocations and seldom
 * returned to the system, and Node's worker and V8's collector threads allocate beside the main
 * one. With two arenas the 20,000 NSG / 100,000 request estate peaked at 485-509 MiB RSS in a
 * 384 MiB heap (mean 497 over three runs), against 505-514 MiB (mean 510) with glibc's default
 * (docs/performance.md, "Ten times the estate"). No effect where the C library is not glibc.
 */
export const OPERATOR_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" };
