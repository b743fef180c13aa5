import { describe, expect, it } from "@jest/globals";
import { FakeClock } from "../../../src/runtime/clock.ts";
import { DelayHeap } from "../../../src/runtime/delay-heap.ts";

function setup(): { clock: FakeClock; fired: [string, number][]; s: DelayHeap } {
  const clock = new FakeClock(0);
  const fired: [string, number][] = [];
  const s = new DelayHeap({ clock, onDue: (k) => fired.push([k, clock.now().getTime()]) });
  return { clock, fired, s };
}

describe("DelayHeap", () => {
  it("fires each key at its time, to the millisecond, in time order", () => {
    const { clock, fired, s } = setup();
    s.schedule("c", 3001);
    s.schedule("a", 1000);
    s.schedule("b", new Date(2500));
    clock.advance(999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([["a", 1000]]);
    clock.advance(5000);
    expect(fired).toEqual([
      ["a", 1000],
      ["b", 2500],
      ["c", 3001],
    ]);
    expect(s.size).toBe(0);
  });

  it("keeps the earliest time per key", () => {
    const { clock, fired, s } = setup();
    s.schedule("k", 5000);
    s.schedule("k", 2000);
    s.schedule("k", 9000);
    expect(s.dueAt("k")?.getTime()).toBe(2000);
    clock.advance(10_000);
    expect(fired).toEqual([["k", 2000]]);
  });

  it("cancel() drops a pending key and keeps the others", () => {
    const { clock, fired, s } = setup();
    s.schedule("a", 1000);
    s.schedule("b", 2000);
    s.cancel("a");
    clock.advance(3000);
    expect(fired).toEqual([["b", 2000]]);
  });

  it("fires past times on the next tick and allows rescheduling from the callback", () => {
    const clock = new FakeClock(10_000);
    const fired: number[] = [];
    const s: DelayHeap = new DelayHeap({
      clock,
      onDue: (k) => {
        fired.push(clock.now().getTime());
        if (fired.length < 3) s.schedule(k, clock.now().getTime() + 100);
      },
    });
    s.schedule("k", 0);
    clock.advance(0);
    clock.advance(1000);
    expect(fired).toEqual([10_000, 10_100, 10_200]);
  });

  it("uses a single timer however many keys are pending", () => {
    const { clock, fired, s } = setup();
    for (let i = 0; i < 10_000; i++) s.schedule(`k${i}`, 1000 + ((i * 7919) % 10_000));
    expect(clock.pendingTimers()).toBe(1);
    for (let i = 0; i < 5000; i++) s.cancel(`k${i}`);
    expect(s.size).toBe(5000);
    clock.advance(20_000);
    expect(fired).toHaveLength(5000);
    const times = fired.map(([, t]) => t);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(clock.pendingTimers()).toBe(0);
  });

  it("stop() disarms and ignores later schedules", () => {
    const { clock, fired, s } = setup();
    s.schedule("a", 100);
    s.stop();
    s.schedule("b", 200);
    clock.advance(1000);
    expect(fired).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("rejects an invalid date", () => {
    const { s } = setup();
    expect(() => {
      s.schedule("k", new Date("nope"));
    }).toThrow(/invalid time/);
  });
});
