// The estate scenario's pure pieces: subscriptions of its own per size, NSGs spread over them, and
// the checks (a throttle, a write or a ten-times miss must be reported as missed).
import { describe, expect, it } from "@jest/globals";
import { estateChecks, estateCurve, TEN_TIMES_NSGS } from "../../../bench/estate-report.ts";
import { estateSubscriptions, RESYNC_SUB } from "../../../bench/estate.ts";
import { parseEstateSizes } from "../../../bench/scenarios/estate.ts";
import type { EstateRun } from "../../../bench/scenarios/estate.ts";
import { buildResyncEstate } from "../../../bench/scenarios/resync-estate.ts";

/** ARM subscription ids are GUIDs: 8-4-4-4-12 hex digits. */
const isSubscriptionId = (s: string): boolean =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s);

describe("parseEstateSizes", () => {
  it("reads NSGs/grants with an optional operator heap, and defaults the heap by size", () => {
    const [big, small, own] = parseEstateSizes("20000/100000,2000/10000,20000/10000/448");
    expect([big?.nsgs, big?.grants, big?.heapMiB]).toEqual([20000, 100000, 2048]);
    expect(small?.heapMiB).toBeUndefined();
    expect(own?.heapMiB).toBe(448);
  });

  it("names the field and the limit on bad input", () => {
    expect(() => parseEstateSizes("20000")).toThrow(/--estate-sizes: "20000" is not NSGs\/grants/);
    expect(() => parseEstateSizes("20000/10000/64")).toThrow(/operator heap 64 MiB outside 128..16384/);
    expect(() => parseEstateSizes("0/10")).toThrow(/0 NSGs outside 1..65535/);
  });
});

describe("estateSubscriptions", () => {
  it("gives each estate size distinct, well-formed subscription ids", () => {
    const small = estateSubscriptions(100, 8);
    const large = estateSubscriptions(20_000, 8);
    expect(new Set([...small, ...large]).size).toBe(16);
    expect([...small, ...large].every(isSubscriptionId)).toBe(true);
    expect(small).not.toContain(RESYNC_SUB);
  });

  it("names the field and the limit on bad input", () => {
    expect(() => estateSubscriptions(100, 0)).toThrow(/subscriptions: expected an integer 1\.\.4096/);
    expect(() => estateSubscriptions(70_000, 2)).toThrow(/nsgs: expected an integer 0\.\.65535/);
  });
});

describe("buildResyncEstate over several subscriptions", () => {
  it("spreads NSGs round-robin, and a policy's targets span the subscriptions", () => {
    const subs = estateSubscriptions(10, 3);
    const e = buildResyncEstate("ns", 10, 20, 1, subs);
    const subOf = (id: string): string => id.split("/")[2] ?? "";
    const counts = subs.map((s) => e.nsgDocs.filter((d) => subOf(String(d["id"])) === s).length);
    expect(counts).toEqual([4, 3, 3]);
    const targets = (e.policies[0] as { spec: { targets: { networkSecurityGroupId: string }[] } }).spec
      .targets;
    expect(new Set(targets.map((t) => subOf(t.networkSecurityGroupId))).size).toBe(3);
  });

  it("refuses an empty subscription list", () => {
    expect(() => buildResyncEstate("ns", 2, 2, 1, [])).toThrow(/at least one subscription/);
  });
});

function run(over: Partial<EstateRun>): EstateRun {
  return {
    nsgs: TEN_TIMES_NSGS,
    grants: 100_000,
    policies: 200,
    subscriptions: 8,
    managed_rules: 20_000,
    reads: 200,
    writes: 0,
    reads_per_50_nsgs: 0.5,
    cpu_s: 5,
    rss_mib: 400,
    peak_rss_mib: 500,
    resync_duration_s: 2,
    startup: {
      seconds: 100,
      reads: 200,
      writes: 0,
      cpu_s: 80,
      peak_rss_mib: 500,
      active_grants: 100_000,
      by_operation: {},
    },
    throttled: { reads: 0, writes: 0 },
    naive: { reads: TEN_TIMES_NSGS, startup_reads: TEN_TIMES_NSGS, min_resync_seconds: 90 },
    by_operation: {},
    setup_seconds: 1,
    seed: { nsg_seconds: 1, request_seconds: 1, requests_per_s: 1, concurrency: 64 },
    memory_floor: [],
    memory: {
      operator_code: "bundle",
      heap_used_mib: 400,
      heap_mib_per_1000_grants: 4,
      estate_heap_mib_per_1000_grants: 3.8,
      rss_floor_mib: 95,
    },
    wall_seconds: 1,
    load: [1, 1, 1],
    ...over,
  };
}

describe("estateChecks", () => {
  it("meets every target of a clean ten-times run", () => {
    const checks = estateChecks({ sizes: [run({})] });
    expect(checks).toHaveLength(6);
    expect(checks.every((c) => c.pass)).toBe(true);
    expect(estateCurve({ sizes: [run({})] })?.[0]).toMatchObject({ reads: 200, naive_reads: 20_000 });
  });

  it.each([
    ["one throttled read", { throttled: { reads: 1, writes: 0 } }, /throttled/],
    ["401 reads", { reads: 401 }, /resync reads/],
    ["10.01 s of CPU", { cpu_s: 10.01 }, /resync CPU/],
    ["513 MiB peak", { peak_rss_mib: 513 }, /peak RSS/],
    ["one resync write", { writes: 1 }, /resync writes/],
  ])("reports %s as missed", (_name, over, measure) => {
    const missed = estateChecks({ sizes: [run(over)] }).filter((c) => !c.pass);
    expect(missed.map((c) => c.measure)).toEqual([expect.stringMatching(measure)]);
  });

  it("applies the read, CPU and RSS targets only from the ten-times estate", () => {
    const small = estateChecks({ sizes: [run({ nsgs: 200, reads: 10, cpu_s: 50, peak_rss_mib: 900 })] });
    expect(small.every((c) => c.pass)).toBe(true);
    expect(small).toHaveLength(3);
  });
});
