import { describe, expect, it } from "@jest/globals";
import { WriteSlots } from "../../../src/kube/bounded-writer.ts";
import { EventRecorder } from "../../../src/kube/events.ts";
import type { EventInput, Kind } from "../../../src/kube/kube.ts";
import type { ObjectMeta } from "../../../src/api/types.ts";
import { createLogger } from "../../../src/runtime/logger.ts";

interface Call {
  name: string | undefined;
  reason: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function fakeKube(): {
  calls: Call[];
  inputs: EventInput[];
  event: (k: Kind, m: ObjectMeta, e: EventInput) => Promise<void>;
} {
  const calls: Call[] = [];
  const inputs: EventInput[] = [];
  return {
    calls,
    inputs,
    event: (_k, meta, e) =>
      new Promise<void>((resolve, reject) => {
        inputs.push(e);
        calls.push({ name: meta.name, reason: e.reason, resolve, reject });
      }),
  };
}

const ev = (reason: string): EventInput => ({ type: "Normal", reason, message: reason });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("EventRecorder", () => {
  it("returns at once and writes with bounded concurrency, in order", async () => {
    const kube = fakeKube();
    const rec = new EventRecorder({ kube, log: createLogger("silent"), concurrency: 2 });
    for (const r of ["A", "B", "C"]) rec.record("AccessRequest", { name: "x" }, ev(r));
    expect(kube.calls.map((c) => c.reason)).toEqual(["A", "B"]);
    kube.calls[0]?.resolve();
    await tick();
    expect(kube.calls.map((c) => c.reason)).toEqual(["A", "B", "C"]);
  });

  it("flush waits for every write, and a failed write does not stop the rest", async () => {
    const kube = fakeKube();
    const rec = new EventRecorder({ kube, log: createLogger("silent"), concurrency: 1 });
    rec.record("JitPolicy", { name: "p" }, ev("A"));
    rec.record("JitPolicy", { name: "p" }, ev("B"));
    let flushed = false;
    const done = rec.flush().then(() => {
      flushed = true;
    });
    kube.calls[0]?.reject(new Error("boom"));
    await tick();
    expect(flushed).toBe(false);
    expect(kube.calls.map((c) => c.reason)).toEqual(["A", "B"]);
    kube.calls[1]?.resolve();
    await done;
    expect(flushed).toBe(true);
  });

  it("with yieldTo, holds every Event while the writes it yields to run, then sends them", async () => {
    const kube = fakeKube();
    const slots = new WriteSlots(4);
    let finish!: () => void;
    const write = slots.run(() => new Promise<void>((r) => (finish = r)));
    const rec = new EventRecorder({
      kube,
      log: createLogger("silent"),
      yieldTo: slots,
      now: () => new Date("2026-12-04T10:00:00Z"),
    });
    rec.record("AccessRequest", { name: "x" }, ev("Approved"));
    await tick();
    expect(kube.calls).toEqual([]);
    finish();
    await write;
    await tick();
    expect(kube.calls.map((c) => c.reason)).toEqual(["Approved"]);
    // The Event keeps the time it was recorded, not the time it was sent.
    expect(kube.inputs[0]?.at?.toISOString()).toBe("2026-12-04T10:00:00.000Z");
  });

  it("drops and counts events beyond the backlog limit", () => {
    const kube = fakeKube();
    const rec = new EventRecorder({ kube, log: createLogger("silent"), concurrency: 1, maxQueued: 2 });
    for (const r of ["A", "B", "C", "D", "E"]) rec.record("AccessRequest", { name: "x" }, ev(r));
    // A is in flight, B and C wait, D and E are dropped.
    expect(rec.dropped).toBe(2);
    expect(kube.calls.map((c) => c.reason)).toEqual(["A"]);
  });
});
