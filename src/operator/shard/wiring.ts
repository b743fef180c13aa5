// Sharded leadership (ADR 0018), in place of startLeadership when --shards > 1: every replica runs
// the controller at once, writes only the NSGs of the shards it holds, and the holder of shard 0
// also decides requests, policies and scopes. A shard given back is first stopped and drained; a
// shard that could not be renewed in time shuts the process down, as a lost leader Lease does.
import type { KubeConfig } from "@kubernetes/client-node";
import type { ArmBudget } from "../../azure/rate-share.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { Config } from "../../runtime/config.ts";
import { kubeLeaseClient } from "../../runtime/lease-client.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { Metrics } from "../../runtime/metrics.ts";
import { memberLeaseName, memberSlots, shardLeaseName } from "../../runtime/shard-hash.ts";
import { ShardLeases } from "../../runtime/shard-leases.ts";
import type { Shutdown } from "../../runtime/shutdown.ts";
import { LEADERSHIP_LOST } from "../startup/leadership.ts";
import type { ShardOwnership } from "./ownership.ts";

/** What the wiring needs of the controller. */
export interface ShardedController {
  start(): void;
  stop(): Promise<void>;
  startDeciding(): void;
  wakeShard(shard: number): void;
}

export interface ShardingOptions {
  config: Config;
  kc: KubeConfig;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  shutdown: Shutdown;
  ownership: ShardOwnership;
  controller: ShardedController;
  /** This replica's share of the subscriptions' ARM budget: 1 / the live replicas each round. */
  budget?: ArmBudget | undefined;
  /** Told whether this replica decides (for /readyz). */
  onDeciding(deciding: boolean): void;
}

export function startSharding(o: ShardingOptions): ShardLeases {
  const { config, ownership, controller } = o;
  const ns = config.leaderElectionNamespace;
  const base = config.leaderElectionId;
  const range = [...Array(ownership.shards).keys()];
  const leases = new ShardLeases({
    shardClients: range.map((i) => kubeLeaseClient(o.kc, ns, shardLeaseName(base, i))),
    slotClients: [...Array(memberSlots(ownership.shards)).keys()].map((i) =>
      kubeLeaseClient(o.kc, ns, memberLeaseName(base, i)),
    ),
    identity: config.identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    clock: o.clock,
    logger: o.log.child({ component: "shards", identity: config.identity }),
    onRenewed: (ms) => {
      o.metrics.leaseRenewal.observe(ms / 1000);
    },
  });
  const publish = (): void => {
    for (const i of range) o.metrics.setLeader(shardLeaseName(base, i), ownership.held().includes(i));
  };
  const beforeRelease = async (shard: number): Promise<void> => {
    await ownership.drop(shard);
    publish();
  };
  // Registered before the controller, so on shutdown the controller stops first, then the Leases go.
  o.shutdown.register("shard-leases", () => leases.stop({ beforeRelease }));
  o.shutdown.register("controller", () => controller.stop());
  controller.start();
  o.log.info({ shards: ownership.shards, lease: `${ns}/${base}-shard-*` }, "sharded: campaigning for shards");
  void leases.run({
    onAcquired: (shard) => {
      ownership.add(shard);
      publish();
      controller.wakeShard(shard);
      if (shard === 0) {
        o.log.info("holding shard 0: deciding requests, policies and scopes");
        controller.startDeciding();
        o.onDeciding(true);
      }
    },
    beforeRelease,
    onReplicas: (replicas) => {
      if (o.budget === undefined || o.budget.replicas === replicas) return;
      o.budget.setReplicas(replicas);
      o.log.info({ replicas, share: o.budget.share() }, "sharing the subscriptions' ARM budget");
    },
    onLost: () => {
      // No new NSG reconcile may start on any shard from here; the process then exits.
      for (const shard of ownership.held()) void ownership.drop(shard);
      publish();
      void o.shutdown.run(LEADERSHIP_LOST);
    },
  });
  return leases;
}
