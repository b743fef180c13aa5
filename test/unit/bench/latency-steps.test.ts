import { describe, expect, it } from "@jest/globals";
import { kubeWrites, latencySteps } from "../../../bench/scenarios/latency-steps.ts";
import type { RequestTrack } from "../../../bench/request-watch.ts";

function track(over: Partial<RequestTrack>): RequestTrack {
  return { phases: new Map(), writesToActive: 0, writes: 0, ...over };
}

describe("latency steps and Kubernetes writes per request", () => {
  it("measures every step from the create and counts the create as a write", () => {
    const t = track({
      addedAt: 1010,
      startTime: 1020,
      finalizerAt: 1030,
      approvedAt: 1045,
      phases: new Map([["Active", 1080]]),
      writesToActive: 3,
      writes: 4,
    });
    const steps = latencySteps([t], [1000], [60]);
    expect([steps.watch_ms.p99, steps.decision_ms.p99, steps.finalizer_ms.p99]).toEqual([10, 20, 30]);
    expect([steps.approval_ack_ms.p99, steps.rule_ms.p99, steps.active_ms.p99]).toEqual([45, 60, 80]);
    const w = kubeWrites([t, track({ writesToActive: 1, writes: 2 })]);
    expect(w.per_request_to_active).toEqual({ mean: 3, max: 4 });
    expect(w.per_request_total).toEqual({ mean: 4, max: 5 });
  });

  it("leaves a request the watch never saw out of the counts, and its steps as NaN", () => {
    expect(kubeWrites([undefined]).per_request_to_active.max).toBeNaN();
    expect(latencySteps([undefined], [1000], [NaN]).watch_ms.p99).toBeNaN();
  });
});
