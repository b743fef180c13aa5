// Leader election wiring: without --leader-elect the controller starts at once; with it, only the
// holder of the Lease runs reconcilers. Losing the Lease stops the process (as controller-runtime
// does): a fresh start is the simplest way to guarantee no stale reconciler keeps writing.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Clock } from "./runtime/clock.ts";
import type { Config } from "./runtime/config.ts";
import type { Logger } from "./runtime/logger.ts";
import type { Metrics } from "./runtime/metrics.ts";
import type { Shutdown } from "./runtime/shutdown.ts";

export interface LeadershipOptions {
  config: Config;
  kc: KubeConfig;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  shutdown: Shutdown;
  onStartedLeading(): void;
  onStoppedLeading(): Promise<void>;
}

export function startLeadership(o: LeadershipOptions): Promise<void> {
  // The controller stops before the Lease is released (closers run in reverse order).
  o.shutdown.register("controller", () => o.onStoppedLeading());
  o.metrics.setLeader(o.config.leaderElectionId, true);
  o.onStartedLeading();
  return Promise.resolve();
}
