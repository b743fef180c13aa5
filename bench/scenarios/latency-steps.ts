// Where a grant's time goes, step by step, as seen from outside the operator: each step is measured
// from the moment the request's create call was issued. The API server's watch delivers the
// creation, the finalizer write and the approval write (the benchmark's own watch stands in for the
// operator's: same API server, same moment); the decision time is status.startTime, which the
// operator sets when it decides; "rule" is the first poll of the emulator that shows the source.
import type { RequestTrack } from "../request-watch.ts";
import { summarize } from "../stats.ts";
import type { Percentiles } from "../stats.ts";

export interface LatencySteps {
  /** created -> the creation delivered by a watch */
  watch_ms: Percentiles;
  /** created -> status.startTime (the operator's decision) */
  decision_ms: Percentiles;
  /** created -> the finalizer write delivered by a watch */
  finalizer_ms: Percentiles;
  /** created -> the approval write delivered by a watch */
  approval_ack_ms: Percentiles;
  /** created -> the allow rule in the emulator */
  rule_ms: Percentiles;
  /** created -> Active delivered by a watch */
  active_ms: Percentiles;
}

export interface KubeWrites {
  /** Kubernetes writes per request up to Active, the create included (the floor's is 2) */
  per_request_to_active: { mean: number; max: number };
  /** all writes per request seen until the run ended (expiry included), the create included */
  per_request_total: { mean: number; max: number };
}

/** One sample per request: times relative to when its create was issued. */
export function latencySteps(
  tracks: (RequestTrack | undefined)[],
  issued: number[],
  rule: number[],
): LatencySteps {
  // Steps a request never reached (closed before Active, say) leave no sample.
  const rel = (pick: (t: RequestTrack) => number | undefined): Percentiles =>
    summarize(
      tracks
        .map((t, k) => (t === undefined ? NaN : (pick(t) ?? NaN)) - (issued[k] ?? NaN))
        .filter(Number.isFinite),
    );
  return {
    watch_ms: rel((t) => t.addedAt),
    decision_ms: rel((t) => t.startTime),
    finalizer_ms: rel((t) => t.finalizerAt),
    approval_ack_ms: rel((t) => t.approvedAt),
    rule_ms: summarize(rule.filter(Number.isFinite)),
    active_ms: rel((t) => t.phases.get("Active")),
  };
}

export function kubeWrites(tracks: (RequestTrack | undefined)[]): KubeWrites {
  const stat = (values: number[]): { mean: number; max: number } => ({
    mean: Math.round((values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)) * 100) / 100,
    max: values.length === 0 ? NaN : Math.max(...values),
  });
  const seen = tracks.filter((t): t is RequestTrack => t !== undefined);
  return {
    per_request_to_active: stat(seen.map((t) => 1 + t.writesToActive)),
    per_request_total: stat(seen.map((t) => 1 + t.writes)),
  };
}
