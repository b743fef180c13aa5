// Leader election over a real coordination.k8s.io/v1 Lease: two electors on one Lease, exactly
// one leads; when it stops (releasing the Lease) the other takes over well within the lease
// duration; when it crashes (stops renewing without releasing) the other takes over once the
// Lease expires.
import { afterEach, describe, expect, jest, test } from "@jest/globals";
import { CoordinationV1Api } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { testCluster } from "../support/cluster.ts";
import { systemClock } from "../../src/runtime/clock.ts";
import { LeaderElector } from "../../src/runtime/leader.ts";
import { kubeLeaseClient } from "../../src/runtime/lease-client.ts";
import type { LeaseClient } from "../../src/runtime/lease-client.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { waitFor } from "./runtime-support.ts";

jest.setTimeout(60_000);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function elector(client: LeaseClient, identity: string, leaseDurationMs = 3_000): LeaderElector {
  const e = new LeaderElector({
    client,
    name: "drawbridge-leader",
    identity,
    leaseDurationMs,
    renewDeadlineMs: (leaseDurationMs * 2) / 3,
    retryPeriodMs: 500,
    clock: systemClock,
    logger: createLogger("silent"),
  });
  cleanups.push(() => e.stop());
  return e;
}

async function holder(kc: KubeConfig, namespace: string): Promise<string | undefined> {
  const lease = await kc
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: "drawbridge-leader", namespace });
  return lease.spec?.holderIdentity;
}

describe("LeaderElector on a real Lease", () => {
  test("one of two candidates leads; the other takes over quickly when it stops", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-leader");
    const kc = cluster.kubeConfig("admin");
    // A long lease: taking over before it could have expired proves the release, with a margin no
    // load on the machine eats.
    const leaseMs = 30_000;
    const a = elector(kubeLeaseClient(kc, ns, "drawbridge-leader"), "replica-a", leaseMs);
    const b = elector(kubeLeaseClient(kc, ns, "drawbridge-leader"), "replica-b", leaseMs);
    const log: string[] = [];
    const cb = (who: string): Parameters<LeaderElector["run"]>[0] => ({
      onStartedLeading: () => void log.push(`${who} started`),
      onStoppedLeading: (r) => void log.push(`${who} stopped:${r}`),
    });
    const runA = a.run(cb("a"));
    await waitFor("a to lead", () => a.isLeader());
    void b.run(cb("b"));
    await new Promise((r) => setTimeout(r, 2_500));
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(b.leader).toBe("replica-a");
    expect(await holder(kc, ns)).toBe("replica-a");

    const stoppedAt = Date.now();
    await a.stop();
    await runA;
    await waitFor("b to take over", () => b.isLeader(), leaseMs / 2);
    expect(Date.now() - stoppedAt).toBeLessThan(leaseMs);
    expect(await holder(kc, ns)).toBe("replica-b");
    expect(log).toEqual(["a started", "a stopped:stopped", "b started"]);
  });

  test("after a leader crashes without releasing, the other takes over once the Lease expires", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-leader-crash");
    const kc = cluster.kubeConfig("admin");
    const real = kubeLeaseClient(kc, ns, "drawbridge-leader");
    let crashed = false;
    // After the "crash" every call of a hangs, like a process that is frozen or partitioned away.
    const crashable: LeaseClient = {
      get: () => (crashed ? new Promise(() => undefined) : real.get()),
      create: (r) => (crashed ? new Promise(() => undefined) : real.create(r)),
      update: (r) => (crashed ? new Promise(() => undefined) : real.update(r)),
    };
    const a = elector(crashable, "replica-a");
    const b = elector(kubeLeaseClient(kc, ns, "drawbridge-leader"), "replica-b");
    const lostA: string[] = [];
    void a.run({ onStartedLeading: () => undefined, onStoppedLeading: (r) => void lostA.push(r) });
    await waitFor("a to lead", () => a.isLeader());
    void b.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    await new Promise((r) => setTimeout(r, 1_000));
    crashed = true;
    const crashedAt = Date.now();
    await waitFor("b to take over", () => b.isLeader(), 10_000);
    const took = Date.now() - crashedAt;
    expect(took).toBeGreaterThanOrEqual(1_500);
    expect(took).toBeLessThan(3_000 + 2 * 500 + 1_500);
    await waitFor("a to notice it lost", () => lostA.length > 0, 15_000);
    expect(lostA).toEqual(["lost"]);
    expect(await holder(kc, ns)).toBe("replica-b");
  });
});
