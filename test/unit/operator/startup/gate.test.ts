import { describe, expect, it } from "@jest/globals";
import { Writable } from "node:stream";
import { FakeClock, flushMicrotasks } from "../../../../src/runtime/clock.ts";
import { createLogger } from "../../../../src/runtime/logger.ts";
import { EXIT_STARTUP_FAILED, StartupGate } from "../../../../src/operator/startup/gate.ts";
import type { StartupOutcome } from "../../../../src/operator/startup/gate.ts";
import type { StartupProblem } from "../../../../src/operator/startup/checks.ts";

const NS_MISSING: StartupProblem = {
  kind: "namespace",
  what: 'namespace "drawbridge-system" for the leader-election Lease "drawbridge-leader" does not exist',
  fix: "kubectl create namespace drawbridge-system",
};

interface Harness {
  clock: FakeClock;
  lines: { level: string; msg: string }[];
  gate: StartupGate;
  checks: () => number;
}

function harness(timeoutMs: number, answers: () => StartupProblem[]): Harness {
  const clock = new FakeClock(0);
  const lines: { level: string; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done): void {
      for (const l of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(l) as { level: string; msg: string });
      done();
    },
  });
  let checks = 0;
  const gate = new StartupGate({
    check: () => {
      checks++;
      return Promise.resolve(answers());
    },
    clock,
    log: createLogger("debug", sink),
    timeoutMs,
    retryMs: 1_000,
  });
  return { clock, lines, gate, checks: () => checks };
}

async function settle(
  p: Promise<StartupOutcome>,
  clock: FakeClock,
  ms: number,
): Promise<StartupOutcome | "pending"> {
  let out: StartupOutcome | "pending" = "pending";
  void p.then((o) => (out = o));
  await clock.advanceAsync(ms, 100);
  await flushMicrotasks();
  return out;
}

describe("StartupGate", () => {
  it("a missing namespace: one error line, /readyz says why, exit after the timeout", async () => {
    const h = harness(10_000, () => [NS_MISSING]);
    const run = h.gate.run({ startInformers: () => Promise.resolve(), unsynced: () => [] });
    expect(await settle(run, h.clock, 5_000)).toBe("pending");
    expect(h.gate.readiness()).toEqual({
      ok: false,
      reason: expect.stringContaining("start-up blocked: namespace"),
    });
    expect(await settle(run, h.clock, 6_000)).toBe("timeout");
    expect(h.checks()).toBeGreaterThanOrEqual(10);
    const errors = h.lines.filter((l) => l.level === "error");
    expect(errors.map((l) => l.msg.slice(0, 30))).toEqual([
      'start-up blocked: namespace "d',
      "start-up did not complete with",
    ]);
    expect(errors[0]?.msg).toContain("kubectl create namespace drawbridge-system");
    expect(errors[1]?.msg).toContain(`exiting with code ${String(EXIT_STARTUP_FAILED)}`);
  });

  it("goes on once the problem is fixed, and is ready only after the first lists", async () => {
    let fixed = false;
    const h = harness(60_000, () => (fixed ? [] : [NS_MISSING]));
    let synced = false;
    let resolveLists!: () => void;
    const lists = new Promise<void>((r) => (resolveLists = r));
    const run = h.gate.run({
      startInformers: () => lists.then(() => void (synced = true)),
      unsynced: () => (synced ? [] : ["accessrequests"]),
    });
    expect(await settle(run, h.clock, 3_000)).toBe("pending");
    fixed = true;
    expect(await settle(run, h.clock, 3_000)).toBe("pending");
    expect(h.gate.readiness()).toEqual({
      ok: false,
      reason: "caches not synced: waiting for the first list of accessrequests",
    });
    resolveLists();
    expect(await settle(run, h.clock, 100)).toBe("ok");
    expect(h.gate.readiness().ok).toBe(true);
    expect(h.lines.filter((l) => l.level === "error")).toHaveLength(1);
    expect(h.lines.some((l) => l.msg === "start-up prerequisites are in place now")).toBe(true);
  });

  it("lists that never complete (a CRD deleted after the check) time out with the diagnosis", async () => {
    let calls = 0;
    const crds: StartupProblem = {
      kind: "crds",
      what: "no jitscopes",
      fix: "kubectl apply --server-side -f crds/",
    };
    const h = harness(5_000, () => (calls++ === 0 ? [] : [crds]));
    const run = h.gate.run({
      startInformers: () => new Promise<void>(() => undefined),
      unsynced: () => ["scopes"],
    });
    expect(await settle(run, h.clock, 6_000)).toBe("timeout");
    const errors = h.lines.filter((l) => l.level === "error").map((l) => l.msg);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain("start-up blocked: no jitscopes");
    expect(errors[1]).toContain("start-up blocked: no jitscopes");
  });

  it("stop() ends the wait at once", async () => {
    const h = harness(0, () => [NS_MISSING]);
    const run = h.gate.run({ startInformers: () => Promise.resolve(), unsynced: () => [] });
    expect(await settle(run, h.clock, 100_000)).toBe("pending");
    h.gate.stop();
    expect(await settle(run, h.clock, 0)).toBe("stopped");
  });
});
