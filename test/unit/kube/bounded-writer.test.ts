import { describe, expect, it } from "@jest/globals";
import { WriteSlots, boundedWriter } from "../../../src/kube/bounded-writer.ts";
import type { KubeWriter } from "../../../src/kube/kube.ts";

/** A write the test finishes by hand. */
function pending(): { promise: Promise<string>; finish: (v: string) => void; fail: (e: Error) => void } {
  let finish!: (v: string) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<string>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { promise, finish, fail };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("WriteSlots", () => {
  it("runs at most max writes at once and starts the waiting ones first come, first served", async () => {
    const slots = new WriteSlots(2);
    const writes = Array.from({ length: 5 }, () => pending());
    const started: number[] = [];
    const done = writes.map((w, i) =>
      slots.run(() => {
        started.push(i);
        return w.promise;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect(slots.busy).toBe(2);
    expect(slots.waiting).toBe(3);
    writes[1]?.finish("b");
    await tick();
    expect(started).toEqual([0, 1, 2]);
    writes[0]?.finish("a");
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    expect(slots.busy).toBe(2);
    for (const w of writes.slice(2)) w.finish("x");
    await expect(Promise.all(done)).resolves.toEqual(["a", "b", "x", "x", "x"]);
    expect(slots.busy).toBe(0);
    expect(slots.waiting).toBe(0);
  });

  it("whenIdle resolves once no write runs or waits, and at once when none does", async () => {
    const slots = new WriteSlots(1);
    await slots.whenIdle();
    const a = pending();
    const b = pending();
    const runs = [slots.run(() => a.promise), slots.run(() => b.promise)];
    let idle = false;
    const waited = slots.whenIdle().then(() => {
      idle = true;
    });
    a.finish("a");
    await tick();
    expect(idle).toBe(false); // b took the slot
    b.finish("b");
    await Promise.all([...runs, waited]);
    expect(idle).toBe(true);
  });

  it("frees the slot of a write that fails, and passes its error on", async () => {
    const slots = new WriteSlots(1);
    const first = pending();
    const failed = slots.run(() => first.promise);
    const second = slots.run(() => Promise.resolve("second"));
    await tick();
    expect(slots.waiting).toBe(1);
    first.fail(new Error("refused"));
    await expect(failed).rejects.toThrow("refused");
    await expect(second).resolves.toBe("second");
    expect(slots.busy).toBe(0);
  });

  it("refuses a bound that is not a whole number of at least 1, naming the limit", () => {
    expect(() => new WriteSlots(0)).toThrow("write slots must be a whole number >= 1, got 0");
    expect(() => new WriteSlots(1.5)).toThrow("got 1.5");
  });
});

describe("boundedWriter", () => {
  it("composes a status when its write takes a slot, not when it is queued", async () => {
    const slots = new WriteSlots(1);
    const held = pending();
    const sent: object[] = [];
    const written = { metadata: { name: "alice" } };
    const inner: KubeWriter = {
      patchStatus: () => Promise.resolve(written),
      patchStatusFrom: (_k, _meta, compose) => {
        sent.push(compose());
        return Promise.resolve(written);
      },
      setFinalizers: () => held.promise.then(() => written),
      deleteObject: () => Promise.resolve(),
      event: () => Promise.resolve(),
      getObject: () => Promise.resolve(written),
    };
    const w = boundedWriter(inner, slots);
    const meta = { namespace: "team-a", name: "alice" };
    const first = w.setFinalizers("AccessRequest", meta, []);
    let phase = "Pending";
    const second = w.patchStatusFrom("AccessRequest", meta, () => ({ phase }));
    await tick();
    expect(slots.waiting).toBe(1);
    expect(sent).toEqual([]);
    phase = "Active";
    held.finish("done");
    await Promise.all([first, second]);
    expect(sent).toEqual([{ phase: "Active" }]);
  });
});
