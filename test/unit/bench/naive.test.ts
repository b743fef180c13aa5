// The naive design's bound beside the latency runs: the request of rank ceil(0.99 n) on one NSG
// waits for that many serial writes.
import { describe, expect, it } from "@jest/globals";
import { naiveAtLeastMs } from "../../../bench/naive.ts";

describe("naiveAtLeastMs", () => {
  it("counts ceil(p * n) serial writes", () => {
    expect(naiveAtLeastMs(5, 1)).toBe(5);
    expect(naiveAtLeastMs(5, 10)).toBe(50);
    expect(naiveAtLeastMs(5, 100)).toBe(495);
    expect(naiveAtLeastMs(2010, 1000)).toBe(1_989_900);
    expect(naiveAtLeastMs(4, 100, 0.5)).toBe(200);
  });
});
