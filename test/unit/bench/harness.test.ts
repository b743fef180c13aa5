// The benchmark's pure pieces: percentiles, metric parsing, the bench address range, the converged
// resync estate and the target assessment (a wrong one would report a missed target as met).
import { describe, expect, it } from "@jest/globals";
import { allowedSources } from "../../../bench/emulator.ts";
import { sourceOf } from "../../../bench/estate.ts";
import { parseMetrics, sumOf } from "../../../bench/operator.ts";
import { QUICK } from "../../../bench/profiles.ts";
import { assess, buildResults } from "../../../bench/report.ts";
import type { ScenarioOutcomes } from "../../../bench/report.ts";
import { buildResyncEstate } from "../../../bench/scenarios/resync-estate.ts";
import { percentile, summarize } from "../../../bench/stats.ts";
import { policyBindings } from "../../../src/operator/state/bindings.ts";
import type { AccessRequest, JitPolicy } from "../../../src/api/types.ts";
import { activeGrants, planNsg } from "../../../src/core/index.ts";
import type { SecurityRule } from "../../../src/core/index.ts";

describe("percentile", () => {
  it("uses the nearest rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(summarize([3, 1, 2])).toEqual({ p50: 2, p95: 3, p99: 3, max: 3, n: 3 });
  });
});

describe("metrics", () => {
  it("parses samples and sums a metric over its labels only", () => {
    const m = parseMetrics(
      [
        "# HELP workqueue_depth x",
        'workqueue_depth{name="nsg"} 2',
        'workqueue_depth{name="accessrequest"} 3',
        "workqueue_depth_other 100",
        "process_cpu_seconds_total 1.5",
      ].join("\n"),
    );
    expect(sumOf(m, "workqueue_depth")).toBe(5);
    expect(sumOf(m, "process_cpu_seconds_total")).toBe(1.5);
  });
});

describe("sourceOf", () => {
  it("enumerates distinct /32s of 198.18.0.0/15 and refuses to leave it", () => {
    expect(sourceOf(0)).toBe("198.18.0.0/32");
    expect(sourceOf(65_536 + 257)).toBe("198.19.1.1/32");
    expect(new Set(Array.from({ length: 1000 }, (_, i) => sourceOf(i))).size).toBe(1000);
    expect(() => sourceOf(131_072)).toThrow(/outside/);
  });
});

describe("buildResyncEstate", () => {
  it("seeds NSGs the planner finds converged, with every grant's source and Active statuses", () => {
    const e = buildResyncEstate("ns", 4, 12, 2);
    expect(e.nsgDocs).toHaveLength(4);
    expect(e.requests.every((r) => r.status.phase === "Active" && (r.status.rules ?? []).length === 1)).toBe(
      true,
    );
    const doc = e.nsgDocs[0] as {
      id: string;
      properties: { securityRules: { name: string; properties: object }[] };
    };
    const rules = doc.properties.securityRules.map(
      (r) => ({ name: r.name, ...r.properties }) as SecurityRule,
    );
    const sources = allowedSources(doc.properties.securityRules as Parameters<typeof allowedSources>[0]);
    expect([...sources].sort()).toEqual([sourceOf(0), sourceOf(4), sourceOf(8)].sort());
    expect(rules.filter((r) => r.name.startsWith("drawbridge-"))).toHaveLength(2);
    // The document as the emulator stores it, read back into rules, plans as converged.
    const policies = e.policies.map(
      (p) => ({ ...p, metadata: { ...(p.metadata as object), generation: 1 } }) as unknown as JitPolicy,
    );
    const requests = e.requests.map(
      (r) =>
        ({
          ...r.body,
          metadata: { ...(r.body.metadata as object), generation: 1 },
          status: r.status,
        }) as unknown as AccessRequest,
    );
    const bindings = policies
      .flatMap((p) => policyBindings(p, true))
      .filter((b) => b.nsgId === doc.id)
      .map((b) => b.binding);
    const grants = activeGrants(policies, requests, new Date()).grants;
    expect(planNsg({ nsg: { id: doc.id, securityRules: rules }, bindings, grants }).unchanged).toBe(true);
    expect(
      planNsg({ nsg: { id: doc.id, securityRules: rules }, bindings, grants: grants.slice(1) }).unchanged,
    ).toBe(false);
  });
});

describe("assess", () => {
  const outcomes = (writes: number): ScenarioOutcomes => {
    const run = {
      requests: 500,
      nsgs: 5,
      write_latency_ms: 1000,
      writes,
      reads: 0,
      throttled: 0,
      converge_s: 1,
      create_span_s: 1,
      approval_span_s: 1,
      by_operation: {},
    };
    return {
      errors: {},
      seconds: {},
      load: {},
      burst: {
        rule: run,
        nsg: run,
        naive: { ...run, writes: 500 },
        write_reduction: { rule: 500 / writes, nsg: 500 / writes },
      },
    };
  };
  const machine = { cpus: 2, model: "x", memory_gib: 1, node: "v24", platform: "linux", loadavg_start: [] };

  it("meets the burst target at 25 writes and misses it at 26", () => {
    const met = assess(buildResults(QUICK, machine, outcomes(25), 1));
    expect(met.map((c) => c.pass)).toEqual([true, true]);
    const missed = assess(buildResults(QUICK, machine, outcomes(26), 1));
    expect(missed.map((c) => c.pass)).toEqual([false, false]);
  });
});
