// Scenarios 1 and 2: grant latency (request created -> allow rule in the emulator's NSG, and ->
// status Active) and revoke lag (status.expiresAt -> rule gone), for N concurrent requests on one
// NSG at emulator write latency L. One operator (rule mode) serves every run; each run has its own
// NSG and policy, so runs do not disturb each other.
import { ACCESSREQUEST_PLURAL, FINALIZER, JITPOLICY_PLURAL } from "../../src/api/types.ts";
import { hasManagedDeny } from "../emulator.ts";
import { naiveAtLeastMs, naiveWriteMs } from "../naive.ts";
import { foreignRules, nsgDocument, nsgId, policyObject, requestObject, sourceOf } from "../estate.ts";
import { createNamespace, crPath } from "../kube.ts";
import { NsgWatch } from "../nsg-watch.ts";
import { RequestWatch } from "../request-watch.ts";
import type { RequestTrack } from "../request-watch.ts";
import { measureFloor } from "./kube-floor.ts";
import { kubeWrites, latencySteps } from "./latency-steps.ts";
import type { KubeWrites, LatencySteps } from "./latency-steps.ts";
import type { FloorRun } from "./kube-floor.ts";
import type { Stack } from "../stack.ts";
import { summarize, until } from "../stats.ts";
import type { Percentiles } from "../stats.ts";

export interface LatencyRun {
  concurrency: number;
  write_latency_ms: number;
  /** created -> rule present in the emulator */
  grant_ms: Percentiles;
  /** created -> status.phase Active seen through a watch */
  active_ms: Percentiles;
  /** created -> status.startTime (approval) */
  approval_ms: Percentiles;
  /** status.expiresAt -> rule gone */
  revoke_ms: Percentiles;
  /** requests closed (e.g. Expired) before they were seen Active: an overloaded run */
  never_active: number;
  /** the Kubernetes floor for the same number of creations, measured just before the run */
  floor: FloorRun;
  /** grant p99 - floor p99 - 2L: what drawbridge adds on top of the API server and ARM */
  grant_overhead_p99_ms: number;
  /** grant p99 / floor p99 */
  grant_floor_ratio_p99: number;
  /** floor p99 + 2L + 50 ms */
  grant_target_ms: number;
  /** 2L + 50 ms, the fixed target before the floor was measured */
  grant_fixed_target_ms: number;
  revoke_target_ms: number;
  /** created -> watch delivery -> decision -> finalizer ack -> approval ack -> rule -> Active */
  steps: LatencySteps;
  /** Kubernetes writes per request, counted from the watch (resourceVersion changes) */
  kube_writes: KubeWrites;
  arm_writes: number;
  arm_reads: number;
  poll_resolution_ms: number;
  /** created as the CLI creates them, finalizer included (ADR 0022); false: the operator adds it */
  created_with_finalizer: boolean;
  /**
   * The naive one-write-per-request design beside it (bench/naive.ts): one rule write at this L,
   * measured, and what that makes its grant latency and revoke lag p99 for this many requests on
   * one NSG at least (serial writes only, Kubernetes time not counted). Absent in older results.
   */
  naive?: { write_ms: number; p99_at_least_ms: number };
}

export interface LatencyOptions {
  concurrency: number[];
  writeLatencyMs: number[];
  duration: string;
  /** Create requests without drawbridge's finalizer, as plain YAML may (one more write each). */
  bareRequests?: boolean;
}

/** Naive rule writes timed per write latency (their median is the naive design's write). */
const NAIVE_WRITES = 5;

const DURATION_MS: Record<string, number> = {
  PT10S: 10_000,
  PT15S: 15_000,
  PT20S: 20_000,
  PT30S: 30_000,
  PT60S: 60_000,
};

/**
 * Hundreds of requests take seconds to create and approve on a small, busy machine: with the
 * profile's 10 s some expired before they were seen Active (100 at L = 500 ms under load), and the
 * run failed waiting for them.
 */
export function runDuration(n: number, duration: string): string {
  if (n >= 1000) return "PT60S";
  return n >= 100 ? "PT30S" : duration;
}

export async function runLatency(stack: Stack, opts: LatencyOptions): Promise<LatencyRun[]> {
  const ns = `bench-latency-${Date.now().toString(36)}`;
  await createNamespace(stack.kube, ns);
  // Floor requests live in a namespace that no operator serves.
  const floorNs = `${ns}-floor`;
  await createNamespace(stack.kube, floorNs);
  const operator = await stack.operator({ namespace: ns, writeMode: "rule", resyncInterval: "5m" });
  const watch = await RequestWatch.start(stack.kube, ns);
  const runs: LatencyRun[] = [];
  let index = 0;
  try {
    for (const latency of opts.writeLatencyMs) {
      const naiveMs = await naiveWriteMs(stack, latency, NAIVE_WRITES);
      stack.log(`latency: a naive rule write at write latency ${latency} ms takes ${naiveMs} ms`);
      for (const n of opts.concurrency) {
        stack.log(`latency: ${n} concurrent request(s), write latency ${latency} ms`);
        const floor = await measureFloor(stack.kube, floorNs, n, String(index));
        const timed = withFloor(
          await runOne(stack, {
            ns,
            index: index++,
            n,
            latency,
            duration: opts.duration,
            watch,
            withFinalizer: opts.bareRequests !== true,
          }),
          floor,
        );
        const run = { ...timed, naive: { write_ms: naiveMs, p99_at_least_ms: naiveAtLeastMs(naiveMs, n) } };
        stack.log(
          `  floor p99 ${floor.floor_ms.p99} ms, overhead p99 ${run.grant_overhead_p99_ms} ms, ` +
            `grant p50/p99 ${run.grant_ms.p50}/${run.grant_ms.p99} ms, active p99 ${run.active_ms.p99} ms, ` +
            `revoke p50/p99 ${run.revoke_ms.p50}/${run.revoke_ms.p99} ms, ${run.arm_writes} writes, ` +
            `${run.kube_writes.per_request_to_active.mean} Kubernetes writes per request to Active ` +
            `(floor ${floor.writes_per_request}), ${run.never_active} closed before Active; naive p99 >= ${run.naive.p99_at_least_ms} ms`,
        );
        const s = run.steps;
        stack.log(
          `  steps p99 (ms from create): watch ${s.watch_ms.p99}, decision ${s.decision_ms.p99}, ` +
            `finalizer ${s.finalizer_ms.p99}, approval ${s.approval_ack_ms.p99}, rule ${s.rule_ms.p99}, ` +
            `Active ${s.active_ms.p99}`,
        );
        runs.push(run);
      }
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}\noperator log tail:\n${operator.logs()}`, { cause: err });
  } finally {
    watch.stop();
    await stack.emulator.admin.setWriteLatency(0);
    await operator.stop();
  }
  return runs;
}

interface RunSpec {
  ns: string;
  index: number;
  n: number;
  latency: number;
  duration: string;
  watch: RequestWatch;
  withFinalizer: boolean;
}

export type RunWithoutFloor = Omit<
  LatencyRun,
  "floor" | "grant_overhead_p99_ms" | "grant_floor_ratio_p99" | "grant_target_ms"
>;

export function withFloor(run: RunWithoutFloor, floor: FloorRun): LatencyRun {
  const round = (v: number): number => Math.round(v * 10) / 10;
  const f = floor.floor_ms.p99;
  return {
    ...run,
    floor,
    grant_overhead_p99_ms: round(run.grant_ms.p99 - f - 2 * run.write_latency_ms),
    grant_floor_ratio_p99: round(run.grant_ms.p99 / f),
    grant_target_ms: round(f + 2 * run.write_latency_ms + 50),
  };
}

async function runOne(stack: Stack, r: RunSpec): Promise<RunWithoutFloor> {
  const { admin } = stack.emulator;
  const id = nsgId(`bench-lat-${r.ns.slice(-6)}-${r.index}`);
  const policy = `lat-${r.index}`;
  await admin.setWriteLatency(r.latency);
  await admin.addResources([nsgDocument(id, foreignRules())]);
  await stack.kube.call("POST", crPath(r.ns, JITPOLICY_PLURAL), policyObject(r.ns, policy, [id]));
  await until(
    "the baseline deny rule",
    async () => hasManagedDeny((await admin.rules(id)) ?? []),
    60_000 + 4 * r.latency,
  );
  await admin.resetStats();
  const nsgWatch = new NsgWatch(admin, [id]).start();
  const names = Array.from({ length: r.n }, (_, k) => `r-${r.index}-${k}`);
  const sources = names.map((_, k) => sourceOf(r.index * 1024 + k));
  const issued: number[] = [];
  try {
    await Promise.all(
      names.map(async (name, k) => {
        const body = requestObject({
          namespace: r.ns,
          name,
          policy,
          source: sources[k] ?? "",
          duration: runDuration(r.n, r.duration),
          ...(r.withFinalizer ? { finalizers: [FINALIZER] } : {}),
        });
        issued[k] = Date.now();
        await stack.kube.call("POST", crPath(r.ns, ACCESSREQUEST_PLURAL), body);
      }),
    );
    // A thousand creations queue at the API server: allow for them on a slow machine.
    const grantTimeout = 60_000 + 60 * r.n + 4 * r.latency;
    await until(
      `${r.n} allow rule source(s) in ${id}`,
      () => sources.every((s) => nsgWatch.appeared.has(s)),
      grantTimeout,
    );
    await until(
      `${r.n} request(s) Active (or closed first)`,
      () => names.every((n) => seenActiveOrClosed(r.watch.tracks.get(n))),
      grantTimeout,
    );
    const durationMs = DURATION_MS[runDuration(r.n, r.duration)] ?? 20_000;
    await until(
      `${r.n} source(s) removed after expiry`,
      () => sources.every((s) => nsgWatch.gone.has(s)),
      durationMs + 60_000 + 60 * r.n + 4 * r.latency,
    );
  } finally {
    await nsgWatch.stop();
  }
  const stats = await admin.stats();
  const grant: number[] = [];
  const active: number[] = [];
  const approval: number[] = [];
  const revoke: number[] = [];
  const tracks = names.map((name) => r.watch.tracks.get(name));
  names.forEach((name, k) => {
    const t0 = issued[k] ?? NaN;
    const track = r.watch.tracks.get(name);
    const src = sources[k] ?? "";
    grant.push((nsgWatch.appeared.get(src) ?? NaN) - t0);
    active.push((track?.phases.get("Active") ?? NaN) - t0);
    approval.push((track?.startTime ?? NaN) - t0);
    revoke.push((nsgWatch.gone.get(src) ?? NaN) - (track?.expiresAt ?? NaN));
  });
  return {
    concurrency: r.n,
    write_latency_ms: r.latency,
    grant_ms: summarize(grant),
    // A request that expired before its Active was written has no sample (never_active counts it).
    active_ms: summarize(active.filter(Number.isFinite)),
    never_active: active.filter((v) => !Number.isFinite(v)).length,
    approval_ms: summarize(approval),
    revoke_ms: summarize(revoke),
    steps: latencySteps(tracks, issued, grant),
    kube_writes: kubeWrites(tracks),
    grant_fixed_target_ms: 2 * r.latency + 50,
    revoke_target_ms: 2 * r.latency + 250,
    arm_writes: stats.writes,
    arm_reads: stats.reads,
    poll_resolution_ms: Math.round(nsgWatch.resolutionMs * 10) / 10,
    created_with_finalizer: r.withFinalizer,
  };
}

function seenActiveOrClosed(t: RequestTrack | undefined): boolean {
  if (t === undefined) return false;
  return t.phases.has("Active") || t.phases.has("Expired") || t.phases.has("Failed");
}
