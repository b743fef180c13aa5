// ARM faults at high rates (docs/reliability.md): ~20% 429 with Retry-After, 5% 500/503, 5% dropped or timed
// out connections, AnotherOperationInProgress from the emulator's foreign writer editing every NSG
// every 100 ms. A workload of requests across >= 10 NSGs must converge, and the invariants must
// hold at every ~500 ms sample and at the end.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { testCluster } from "../support/cluster.ts";
import { budget } from "./support/budget.ts";
import { recordFigures } from "./support/figures.ts";
import { grantedSources } from "./support/invariants.ts";
import { maxOverstay, overstayQuantile, readNsgs } from "./support/monitor.ts";
import { ChaosStack, waitFor } from "./support/stack.ts";
import { converged, countPhases, submit, workload } from "./support/workload.ts";

const B = budget();
// What an expired grant may overstay under these fault rates: a revoke write can meet a 429
// (Retry-After 1 s), a timed-out attempt (2 s here) and the queue's backoff before it lands.
const BOUND_MS = 40_000;
const FAULTS = {
  rate429: 0.2,
  rate500: 0.025,
  rate503: 0.025,
  rateDrop: 0.025,
  rateTimeout: 0.025,
  timeoutMs: 2_000,
  foreignWriterIntervalMs: 100,
};

let stack: ChaosStack;

beforeAll(async () => {
  stack = await ChaosStack.start(testCluster(), "chaos-arm", {
    nsgs: B.nsgs,
    boundMs: BOUND_MS,
    emulator: { latencyMs: { write: 20 } },
  });
}, 60_000);

afterAll(async () => {
  await stack.close();
}, 60_000);

describe("ARM faults at high rates", () => {
  it("converges with foreign rules intact, no duplicate or out-of-band rule, status agreeing with the NSGs", async () => {
    const began = Date.now();
    stack.startOperator({ writeMode: "rule", resyncInterval: "20s" });
    await stack.applyPolicy();
    await waitFor(
      "the baseline in every NSG",
      () =>
        [...readNsgs(stack.emulator, stack.nsgIds).values()].every((rules) =>
          rules.some((r) => r.name.startsWith("drawbridge-")),
        ),
      60_000,
    );
    stack.emulator.resetStats();
    stack.emulator.setFaults({ ...FAULTS, foreignWriterNsgIds: stack.nsgIds });
    stack.monitor.start();
    const items = workload(B.armRequests);
    const submitStart = Date.now();
    await submit(stack, items, { concurrency: 3 });
    const submitMs = Date.now() - submitStart;
    try {
      await waitFor(
        "convergence under faults",
        async () => {
          const requests = await stack.kube.listRequests();
          return converged(stack, requests, items, grantedSources(readNsgs(stack.emulator, stack.nsgIds)));
        },
        B.full ? 300_000 : 150_000,
        1_000,
      );
    } catch (err) {
      process.stdout.write(
        `phases: ${JSON.stringify(countPhases(stack.monitor.latest))}\n${stack.logs(40)}\n`,
      );
      throw err;
    }
    const convergeMs = Date.now() - submitStart;
    // One more sample with the faults still on, then the end state without them.
    const underFaults = await stack.monitor.sample();
    const stats = stack.emulator.stats();
    stack.emulator.setFaults({});
    await stack.monitor.stop();
    const atEnd = await stack.monitor.sample();
    const overstays = stack.monitor.overstays();
    const log = stack.emulator.writeLog();
    const expired = overstays.filter((o) => o.expiresAt < Date.now());
    recordFigures("armFaults", {
      mode: B.full ? "full" : "bounded",
      requests: items.length,
      nsgs: stack.nsgIds.length,
      faultRates: FAULTS,
      injectedFaults: stats.faults,
      errorAnswers: stats.errors,
      armReads: stats.reads,
      armWrites: stats.writes,
      foreignWriterEdits: log.filter((w) => w.actor === "foreign-writer").length,
      operatorRuleWrites: log.filter((w) => w.actor === "api").length,
      submitMs,
      convergeMs,
      samples: stack.monitor.samples,
      failedSamples: stack.monitor.failedSamples,
      expiredGrants: expired.length,
      overstayP50Ms: overstayQuantile(expired, 0.5),
      overstayP95Ms: overstayQuantile(expired, 0.95),
      longestOverstayMs: maxOverstay(expired),
      boundMs: BOUND_MS,
      totalMs: Date.now() - began,
    });
    expect(stack.foreignTouches()).toEqual([]);
    expect(log.some((w) => w.actor === "foreign-writer")).toBe(true);
    expect(stats.errors["409 AnotherOperationInProgress"] ?? 0).toBeGreaterThan(0);
    expect(stack.monitor.violations).toEqual([]);
    expect(underFaults).toEqual([]);
    expect(atEnd).toEqual([]);
    expect(expired.length).toBeGreaterThan(0);
    expect(maxOverstay(expired)).toBeLessThanOrEqual(BOUND_MS);
    expect(stack.monitor.samples).toBeGreaterThan(10);
  }, 420_000);
});
