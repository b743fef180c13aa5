// The V8 heap settings the operator is run with (the image's NODE_OPTIONS, the chart's
// operator.nodeOptions, and the benchmark). Without them V8 lets the heap grow far beyond what is
// live before collecting: at 2,000 NSGs and 10,000 requests the resident set was 539 MiB with
// ~120 MiB of live heap, and 273 MiB with these caps. A small new space (2 MiB semi-spaces) keeps
// the burst of short-lived objects of each resync page from inflating the resident set; the old
// space cap leaves room for ~50,000 requests (about 10 KiB of heap each) above the ~75 MiB that the
// libraries themselves hold.
export const OPERATOR_NODE_OPTIONS = "--max-old-space-size=256 --max-semi-space-size=2";
