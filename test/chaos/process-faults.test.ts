// Process faults (docs/reliability.md): the operator SIGKILLed at random points of a workload and restarted
// (>= 10 times) — nothing lost, nothing left open beyond restart + one reconcile; and two replicas
// with leader election — the leader killed, the standby takes over within the lease duration.
import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { testCluster } from "../support/cluster.ts";
import { budget } from "./support/budget.ts";
import { beyondRestart, downtimeWindows, downtimeWithin } from "./support/downtime.ts";
import { chaosRequest, sourceOf } from "./support/estate.ts";
import { recordFigures } from "./support/figures.ts";
import { grantedSources } from "./support/invariants.ts";
import { maxOverstay, readNsgs } from "./support/monitor.ts";
import { between, chaosSeed, seededRandom } from "./support/random.ts";
import { ChaosStack, sleep, waitFor } from "./support/stack.ts";
import type { Replica } from "./support/operator.ts";
import { converged, countPhases, submit, workload } from "./support/workload.ts";

const B = budget();
const SEED = chaosSeed();
// Restart + one reconcile on a shared 2-core machine: Node start, informer sync, an NSG pass.
const RECONCILE_BOUND_MS = 10_000;
const LEASE = { leaseDuration: "6s", renewDeadline: "4s", retryPeriod: "1s" };
const LEASE_MS = 6_000;
const RETRY_MS = 1_000;

let stack: ChaosStack;

beforeAll(async () => {
  stack = await ChaosStack.start(testCluster(), "chaos-proc", {
    nsgs: B.nsgs,
    boundMs: RECONCILE_BOUND_MS,
    emulator: { latencyMs: { write: 30 } },
  });
}, 60_000);

afterAll(async () => {
  await stack.close();
}, 60_000);

function baselineEverywhere(): boolean {
  return [...readNsgs(stack.emulator, stack.nsgIds).values()].every((rules) =>
    rules.some((r) => r.name.startsWith("drawbridge-")),
  );
}

describe("process faults", () => {
  it("SIGKILL at random points of the workload: converges, no grant outlives restart + one reconcile", async () => {
    const random = seededRandom(SEED);
    // Time without a reconciling operator does not count against the sampled bound either.
    stack.expectations.excusedMs = (from, to) =>
      downtimeWithin(from, to, downtimeWindows(stack.replicas, to));
    let op: Replica = stack.startOperator({ identity: "proc-0" });
    await stack.applyPolicy();
    await waitFor("the baseline in every NSG", baselineEverywhere, 60_000);
    stack.monitor.start();
    const items = workload(B.processRequests);
    // Paced so the workload spans the kill loop.
    const spacingMs = 1_500;
    const submitting = submit(stack, items, { concurrency: 2, spacingMs });
    const kills: { afterMs: number; phase: "starting" | "working"; writes: number }[] = [];
    const began = Date.now();
    for (let k = 1; k <= B.kills; k++) {
      // Odd kills land while the new process starts (imports, informer sync); even ones while it
      // works, at a random point of the 3 s after it started its reconcilers.
      const current = op;
      const spawnedWrites = stack.emulator.stats().writes;
      if (k % 2 === 1 && k > 1) {
        await sleep(between(random, 0, 1_500));
      } else {
        await waitFor(
          "the operator reconciling",
          () => current.ledAt !== undefined || !current.running,
          120_000,
          50,
        );
        await sleep(between(random, 0, 3_000));
      }
      const phase = current.ledAt === undefined ? "starting" : "working";
      const killedAt = Date.now();
      await op.kill();
      kills.push({ afterMs: killedAt - began, phase, writes: stack.emulator.stats().writes - spawnedWrites });
      await sleep(between(random, 0, 1_000));
      op = stack.startOperator({ identity: `proc-${String(k)}` });
    }
    await submitting;
    try {
      await waitFor(
        "convergence after the last restart",
        async () => {
          const requests = await stack.kube.listRequests();
          return converged(stack, requests, items, grantedSources(readNsgs(stack.emulator, stack.nsgIds)));
        },
        120_000,
        1_000,
      );
    } catch (err) {
      process.stdout.write(
        `phases: ${JSON.stringify(countPhases(stack.monitor.latest))}\n${stack.logs(40)}\n`,
      );
      throw err;
    }
    await stack.monitor.stop();
    const atEnd = await stack.monitor.sample();
    const windows = downtimeWindows(stack.replicas);
    const expired = stack.monitor.overstays().filter((o) => o.expiresAt < Date.now());
    const beyond = expired.map((o) => beyondRestart(o, windows));
    recordFigures("processFaults", {
      mode: B.full ? "full" : "bounded",
      seed: SEED,
      requests: items.length,
      nsgs: stack.nsgIds.length,
      kills: kills.length,
      killsWhileWorking: kills.filter((k) => k.phase === "working").length,
      killsWithWritesInTheirLife: kills.filter((k) => k.writes > 0).length,
      killPoints: kills,
      totalDowntimeMs: windows.reduce((s, w) => s + w.restartedAt - w.killedAt, 0),
      samples: stack.monitor.samples,
      expiredGrants: expired.length,
      longestOverstayMs: maxOverstay(expired),
      longestBeyondRestartMs: Math.max(0, ...beyond),
      reconcileBoundMs: RECONCILE_BOUND_MS,
    });
    expect(kills.length).toBeGreaterThanOrEqual(10);
    // Kills must also hit operators in the middle of their work, or they prove little.
    expect(kills.filter((k) => k.writes > 0).length).toBeGreaterThanOrEqual(3);
    expect(stack.foreignTouches()).toEqual([]);
    expect(stack.monitor.violations).toEqual([]);
    expect(atEnd).toEqual([]);
    expect(expired.length).toBeGreaterThan(0);
    expect(Math.max(0, ...beyond)).toBeLessThanOrEqual(RECONCILE_BOUND_MS);
    await op.stop();
  }, 420_000);

  it("two replicas: the leader killed, the standby takes over within the lease duration", async () => {
    const id = "chaos-leader";
    const a = stack.startOperator({ identity: "replica-a", leader: { id, ...LEASE } });
    const b = stack.startOperator({ identity: "replica-b", leader: { id, ...LEASE } });
    const leader = await waitFor(
      "a leader",
      () => (a.ledAt !== undefined ? a : b.ledAt !== undefined ? b : undefined),
      60_000,
    );
    const standby = leader === a ? b : a;
    // The leader works: a request becomes Active.
    const first = 9_000;
    for (let n = first; n < first + 3; n++) stack.expectations.submitted.add(sourceOf(n));
    await stack.kube.createRequest(chaosRequest(stack.ns, first, { ports: [22], duration: "PT30M" }));
    await waitFor(
      "Active under the first leader",
      async () =>
        (await stack.kube.listRequests()).some(
          (r) => r.metadata.name === "chaos-9000" && r.status?.phase === "Active",
        ),
      30_000,
    );
    expect(standby.ledAt).toBeUndefined();
    // A short grant that expires while the standby is taking over.
    await stack.kube.createRequest(chaosRequest(stack.ns, first + 1, { ports: [22], duration: "PT10S" }));
    await sleep(between(seededRandom(SEED + 1), 0, RETRY_MS));
    const killedAt = Date.now();
    await leader.kill();
    await waitFor("the standby leading", () => standby.ledAt, LEASE_MS + RETRY_MS + 10_000, 50);
    // Seen in the standby's log line (includes delivering the line to this process).
    const loggedTakeoverMs = (standby.ledAt ?? 0) - killedAt;
    const lease = await testCluster()
      .kubeConfig("admin")
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: id, namespace: stack.ns });
    // The new leader works: a new request becomes Active, the short one expires.
    await stack.kube.createRequest(chaosRequest(stack.ns, first + 2, { ports: [3389], duration: "PT30M" }));
    const done = await waitFor(
      "the new leader granting and expiring",
      async () => {
        const rs = await stack.kube.listRequests();
        const phase = (n: number): string | undefined =>
          rs.find((r) => r.metadata.name === `chaos-${String(n)}`)?.status?.phase;
        return phase(first + 2) === "Active" && phase(first + 1) === "Expired" ? rs : undefined;
      },
      60_000,
    );
    expect(done.length).toBeGreaterThan(0);
    // The Lease's acquireTime is written by the standby the moment it takes the lock.
    const takeoverMs = new Date(lease.spec?.acquireTime ?? 0).getTime() - killedAt;
    recordFigures("leaderElection", {
      leaseDurationMs: LEASE_MS,
      retryPeriodMs: RETRY_MS,
      takeoverMs,
      loggedTakeoverMs,
      holder: lease.spec?.holderIdentity,
      leaseTransitions: lease.spec?.leaseTransitions,
    });
    expect(lease.spec?.holderIdentity).toBe(standby.identity);
    // The lease had at most LEASE_MS left at the kill; the standby polls every RETRY_MS; 500 ms for
    // timers firing late on a loaded machine.
    expect(takeoverMs).toBeGreaterThan(0);
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_MS + RETRY_MS + 500);
    await standby.stop();
  }, 180_000);
});
