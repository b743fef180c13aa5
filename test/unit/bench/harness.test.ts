// The benchmark's pure pieces: percentiles, metric parsing, the bench address range, the converged
// resync estate and the target assessment (a wrong one would report a missed target as met).
import { describe, expect, it } from "@jest/globals";
import { allowedSources } from "../../../bench/emulator.ts";
import { sourceOf } from "../../../bench/estate.ts";
import { parseMetrics, sumOf } from "../../../bench/operator.ts";
import { QUICK } from "../../../bench/profiles.ts";
import { assess, buildResults } from "../../../bench/report.ts";
import type { ScenarioOutcomes } from "../../../bench/report.ts";
import { withFloor } from "../../../bench/scenarios/latency.ts";
import type { RunWithoutFloor } from "../../../bench/scenarios/latency.ts";
import { buildResyncEstate } from "../../../bench/scenarios/resync-estate.ts";
import { percentile, summarize } from "../../../bench/stats.ts";
import type { Percentiles } from "../../../bench/stats.ts";
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

describe("grant latency against the Kubernetes floor", () => {
  const p = (p99: number): Percentiles => ({ p50: p99 / 2, p95: p99, p99, max: p99, n: 10 });
  const run: RunWithoutFloor = {
    concurrency: 10,
    write_latency_ms: 500,
    grant_ms: p(1250),
    active_ms: p(1300),
    approval_ms: p(100),
    revoke_ms: p(700),
    never_active: 0,
    steps: {
      watch_ms: p(20),
      decision_ms: p(30),
      finalizer_ms: p(60),
      approval_ack_ms: p(100),
      rule_ms: p(1250),
      active_ms: p(1300),
    },
    kube_writes: { per_request_to_active: { mean: 3, max: 3 }, per_request_total: { mean: 4, max: 4 } },
    grant_fixed_target_ms: 1050,
    revoke_target_ms: 1250,
    arm_writes: 2,
    arm_reads: 1,
    poll_resolution_ms: 6,
    created_with_finalizer: true,
  };
  const floor = { concurrency: 10, create_ms: p(40), floor_ms: p(125), writes_per_request: 2 };

  it("reads grant p99 as floor + 2L + overhead and targets floor + 2L + 50 ms", () => {
    const x = withFloor(run, floor);
    expect(x.grant_overhead_p99_ms).toBe(125);
    expect(x.grant_floor_ratio_p99).toBe(10);
    expect(x.grant_target_ms).toBe(1175);
    expect(x.floor).toBe(floor);
  });

  it("reports a run within the floor-based target as met and one above it as missed", () => {
    const machine = { cpus: 2, model: "x", memory_gib: 1, node: "v24", platform: "linux", loadavg_start: [] };
    const at = (grant: number): ScenarioOutcomes => ({
      errors: {},
      seconds: {},
      load: {},
      latency: [withFloor({ ...run, grant_ms: p(grant) }, floor)],
    });
    const met = assess(buildResults(QUICK, machine, at(1175), 1));
    const missed = assess(buildResults(QUICK, machine, at(1176), 1));
    expect(met.find((c) => c.measure.startsWith("grant latency"))?.pass).toBe(true);
    expect(missed.find((c) => c.measure.startsWith("grant latency"))?.pass).toBe(false);
  });

  it("names runs whose requests came without the finalizer, and only those", () => {
    const machine = { cpus: 2, model: "x", memory_gib: 1, node: "v24", platform: "linux", loadavg_start: [] };
    const measures = (created_with_finalizer: boolean): string[] =>
      assess(
        buildResults(
          QUICK,
          machine,
          {
            errors: {},
            seconds: {},
            load: {},
            latency: [withFloor({ ...run, created_with_finalizer }, floor)],
          },
          1,
        ),
      ).map((c) => c.measure);
    expect(measures(true)).toContain("grant latency p99, 10 concurrent, L=500 ms");
    expect(measures(false)).toContain(
      "grant latency p99, 10 concurrent, L=500 ms, requests without the finalizer",
    );
  });
});
