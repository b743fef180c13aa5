// Prometheus metrics for the operator. One Metrics instance owns its own Registry (never prom-client's
// global one), so tests and several operators in one process do not collide. Names follow
// controller-runtime where an equivalent exists, so existing dashboards and alerts work unchanged;
// drawbridge_* metrics cover what is specific to JIT access (grant latency, revoke lag, ARM calls).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { InFlightProbe, QueueMetrics } from "./queue.ts";

export type ReconcileResult = "success" | "error" | "requeue" | "requeue_after";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const ARM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RECONCILE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface MetricsOptions {
  /** Register Node process metrics (CPU, memory, event loop lag, ...). Default true. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly reconcileTime: Histogram<"controller">;
  readonly workqueueDepth: Gauge<"name">;
  readonly workqueueAdds: Counter<"name">;
  readonly workqueueRetries: Counter<"name">;
  readonly workqueueQueueDuration: Histogram<"name">;
  readonly workqueueWorkDuration: Histogram<"name">;
  readonly workqueueLongestRunning: Gauge<"name">;
  readonly workqueueUnfinishedWork: Gauge<"name">;
  readonly leaderElectionMasterStatus: Gauge<"name">;
  /** AccessRequest approval -> allow rule present in every target NSG. */
  readonly grantLatency: Histogram;
  /** Grant expiresAt -> allow rule gone. */
  readonly revokeLag: Histogram;
  readonly armRequests: Counter<"operation" | "status">;
  readonly armRequestDuration: Histogram<"operation">;
  readonly armThrottled: Counter<"operation">;
  /** Fraction of the configured per-subscription ARM limits this replica uses (src/azure/rate-share.ts). */
  readonly armRateShare: Gauge;
  readonly activeGrants: Gauge;
  readonly managedRules: Gauge;
  readonly resyncDuration: Histogram;
  readonly informerRestarts: Counter<"resource" | "reason">;
  readonly eventLoopStalls: Histogram;
  readonly leaseRenewal: Histogram;
  /** Served namespaces the requester admission policy does not guard (see src/operator/guard/state.ts). */
  readonly admissionGuardUnguarded: Gauge;
  readonly #probes = new Map<string, InFlightProbe>();

  constructor(opts: MetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];
    const probes = this.#probes;
    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.workqueueDepth = new Gauge({
      name: "workqueue_depth",
      help: "Current depth of workqueue",
      labelNames: ["name"],
      registers,
    });
    this.workqueueAdds = new Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by workqueue",
      labelNames: ["name"],
      registers,
    });
    this.workqueueRetries = new Counter({
      name: "workqueue_retries_total",
      help: "Total number of retries handled by workqueue",
      labelNames: ["name"],
      registers,
    });
    this.workqueueQueueDuration = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested",
      labelNames: ["name"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.workqueueWorkDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes",
      labelNames: ["name"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.workqueueLongestRunning = new Gauge({
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running",
      labelNames: ["name"],
      registers,
      collect(): void {
        for (const [name, p] of probes) this.set({ name }, p.longestRunningSeconds());
      },
    });
    this.workqueueUnfinishedWork = new Gauge({
      name: "workqueue_unfinished_work_seconds",
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration",
      labelNames: ["name"],
      registers,
      collect(): void {
        for (const [name, p] of probes) this.set({ name }, p.unfinishedWorkSeconds());
      },
    });
    this.leaderElectionMasterStatus = new Gauge({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master",
      labelNames: ["name"],
      registers,
    });
    this.grantLatency = new Histogram({
      name: "drawbridge_grant_latency_seconds",
      help: "Time from AccessRequest approval until its allow rule is in every target NSG",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.revokeLag = new Histogram({
      name: "drawbridge_revoke_lag_seconds",
      help: "Time from a grant's expiresAt until its allow rule is gone",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.armRequests = new Counter({
      name: "drawbridge_arm_requests_total",
      help: "ARM requests by operation and HTTP status (or error kind)",
      labelNames: ["operation", "status"],
      registers,
    });
    this.armRequestDuration = new Histogram({
      name: "drawbridge_arm_request_duration_seconds",
      help: "ARM request duration by operation, including long-running-operation polling",
      labelNames: ["operation"],
      buckets: ARM_BUCKETS,
      registers,
    });
    this.armThrottled = new Counter({
      name: "drawbridge_arm_throttled_total",
      help: "ARM requests answered 429 (or throttled client-side) by operation",
      labelNames: ["operation"],
      registers,
    });
    this.armRateShare = new Gauge({
      name: "drawbridge_arm_rate_share",
      help: "Fraction of the configured per-subscription ARM rate limits this replica's client-side buckets allow (1 / live replicas when sharded)",
      registers,
    });
    this.armRateShare.set(1);
    this.activeGrants = new Gauge({
      name: "drawbridge_active_grants",
      help: "AccessRequests currently Active",
      registers,
    });
    this.managedRules = new Gauge({
      name: "drawbridge_managed_rules",
      help: "drawbridge-managed security rules across all observed NSGs",
      registers,
    });
    this.resyncDuration = new Histogram({
      name: "drawbridge_resync_duration_seconds",
      help: "Duration of a full resync (paged read of every NSG and enqueue of the drifted ones)",
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.informerRestarts = new Counter({
      name: "drawbridge_informer_restarts_total",
      help: "Watch restarts by resource and reason (error, gone, watchdog, relist)",
      labelNames: ["resource", "reason"],
      registers,
    });
    this.eventLoopStalls = new Histogram({
      name: "drawbridge_event_loop_stall_seconds",
      help: "Event loop stalls: how late a 500 ms timer fired, when later than 1 s (runtime/loop-stall.ts)",
      buckets: [1, 2, 3, 5, 8, 12, 20],
      registers,
    });
    this.leaseRenewal = new Histogram({
      name: "drawbridge_lease_renewal_seconds",
      help: "Time from sending a shard Lease renewal to its answer (or to its failure)",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 10],
      registers,
    });
    this.admissionGuardUnguarded = new Gauge({
      name: "drawbridge_admission_guard_unguarded_namespaces",
      help: "Served namespaces the requester admission policy does not guard",
      registers,
    });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  /** Record one reconcile of `controller`: result counter, error counter and duration. */
  observeReconcile(controller: string, result: ReconcileResult, seconds: number): void {
    this.reconcileTotal.inc({ controller, result });
    if (result === "error") this.reconcileErrors.inc({ controller });
    this.reconcileTime.observe({ controller }, seconds);
  }

  /** Record one ARM call; status is the HTTP status code or an error kind such as "Transient". */
  observeArmRequest(operation: string, status: number | string, seconds: number): void {
    this.armRequests.inc({ operation, status: String(status) });
    this.armRequestDuration.observe({ operation }, seconds);
    if (status === 429 || status === "429" || status === "Throttled") this.armThrottled.inc({ operation });
  }

  setLeader(name: string, leading: boolean): void {
    this.leaderElectionMasterStatus.set({ name }, leading ? 1 : 0);
  }

  /** Hooks for a WorkQueue named `name` (the workqueue_* metrics with label name=<name>). */
  queueMetrics(name: string): QueueMetrics {
    return {
      add: () => {
        this.workqueueAdds.inc({ name });
      },
      depth: (n: number) => {
        this.workqueueDepth.set({ name }, n);
      },
      retry: () => {
        this.workqueueRetries.inc({ name });
      },
      queueLatency: (s: number) => {
        this.workqueueQueueDuration.observe({ name }, s);
      },
      workDuration: (s: number) => {
        this.workqueueWorkDuration.observe({ name }, s);
      },
      bindInFlight: (probe: InFlightProbe) => {
        this.#probes.set(name, probe);
      },
    };
  }

  /** Text exposition of every metric, for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
