import { describe, expect, it } from "@jest/globals";
import { Metrics } from "../../../src/runtime/metrics.ts";

describe("Metrics", () => {
  it("exposes controller-runtime and drawbridge metrics on its own registry", async () => {
    const m = new Metrics({ processMetrics: false });
    m.observeReconcile("nsg", "success", 0.02);
    m.observeReconcile("nsg", "error", 0.5);
    m.observeArmRequest("putRule", 429, 0.1);
    m.observeArmRequest("putRule", 200, 0.05);
    m.setLeader("drawbridge-leader", true);
    m.grantLatency.observe(0.3);
    m.activeGrants.set(3);
    const q = m.queueMetrics("nsg");
    q.add();
    q.depth(4);
    q.bindInFlight({ longestRunningSeconds: () => 2.5, unfinishedWorkSeconds: () => 4 });
    const text = await m.render();
    expect(text).toContain('controller_runtime_reconcile_total{controller="nsg",result="success"} 1');
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="nsg"} 1');
    expect(text).toContain('drawbridge_arm_requests_total{operation="putRule",status="429"} 1');
    expect(text).toContain('drawbridge_arm_throttled_total{operation="putRule"} 1');
    expect(text).toContain('leader_election_master_status{name="drawbridge-leader"} 1');
    expect(text).toContain('workqueue_depth{name="nsg"} 4');
    expect(text).toContain('workqueue_adds_total{name="nsg"} 1');
    expect(text).toContain('workqueue_longest_running_processor_seconds{name="nsg"} 2.5');
    expect(text).toContain('workqueue_unfinished_work_seconds{name="nsg"} 4');
    expect(text).toContain("drawbridge_grant_latency_seconds_count 1");
    expect(text).toContain("drawbridge_active_grants 3");
    expect(text).not.toContain("process_cpu");
  });

  it("keeps instances independent and includes process metrics by default", async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.activeGrants.set(7);
    expect(await b.render()).toContain("drawbridge_active_grants 0");
    expect(await a.render()).toContain("process_cpu_user_seconds_total");
    expect(a.contentType).toMatch(/text\/plain/);
  });
});
