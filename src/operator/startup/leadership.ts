// Leader election wiring: without --leader-elect the controller starts at once; with it, only the
// holder of the Lease runs reconcilers and a second replica waits. Losing the Lease shuts the
// process down (as controller-runtime does): a fresh start is the simplest guarantee that no stale
// reconciler keeps writing next to the new leader. On SIGTERM the controller stops first, then the
// Lease is released so a successor takes over at once.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Clock } from "../../runtime/clock.ts";
import type { Config } from "../../runtime/config.ts";
import { LeaderElector } from "../../runtime/leader.ts";
import { kubeLeaseClient } from "../../runtime/lease-client.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { Metrics } from "../../runtime/metrics.ts";
import type { Shutdown } from "../../runtime/shutdown.ts";

export const LEADERSHIP_LOST = "leadership lost";

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

export function startLeadership(o: LeadershipOptions): void {
  const { config } = o;
  if (!config.leaderElect) {
    o.shutdown.register("controller", () => o.onStoppedLeading());
    o.metrics.setLeader(config.leaderElectionId, true);
    o.onStartedLeading();
    return;
  }
  const elector = new LeaderElector({
    client: kubeLeaseClient(o.kc, config.leaderElectionNamespace, config.leaderElectionId),
    name: config.leaderElectionId,
    identity: config.identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    clock: o.clock,
    logger: o.log,
    metrics: o.metrics,
  });
  let leading = false;
  o.shutdown.register("leader-election", () => elector.stop());
  o.shutdown.register("controller", async () => {
    if (leading) await o.onStoppedLeading();
    leading = false;
  });
  o.log.info(
    { lease: `${config.leaderElectionNamespace}/${config.leaderElectionId}`, identity: config.identity },
    "waiting for leadership",
  );
  void elector.run({
    onStartedLeading: () => {
      leading = true;
      o.onStartedLeading();
    },
    onStoppedLeading: (reason) => {
      if (reason === "lost") void o.shutdown.run(LEADERSHIP_LOST);
    },
  });
}
