import { describe, expect, it } from "@jest/globals";
import { FakeClock, systemClock } from "../../../src/runtime/clock.ts";

describe("FakeClock", () => {
  it("fires timers in due order with now() at each due time, including timers set while firing", () => {
    const c = new FakeClock(1000);
    const log: string[] = [];
    c.setTimer(() => log.push(`b@${c.now().getTime()}`), 200);
    c.setTimer(() => {
      log.push(`a@${c.now().getTime()}`);
      c.setTimer(() => log.push(`c@${c.now().getTime()}`), 50);
    }, 100);
    const cleared = c.setTimer(() => log.push("never"), 150);
    c.clearTimer(cleared);
    c.advance(500);
    expect(log).toEqual(["a@1100", "c@1150", "b@1200"]);
    expect(c.now().getTime()).toBe(1500);
  });

  it("does not fire timers beyond the advanced span", () => {
    const c = new FakeClock(0);
    let fired = false;
    c.setTimer(() => (fired = true), 1000);
    c.advance(999);
    expect(fired).toBe(false);
    expect(c.pendingTimers()).toBe(1);
  });
});

describe("systemClock", () => {
  it("runs a timer and can clear one", async () => {
    let ran = false;
    const cleared = systemClock.setTimer(() => (ran = true), 1);
    systemClock.clearTimer(cleared);
    await new Promise<void>((resolve) => systemClock.setTimer(resolve, 5));
    expect(ran).toBe(false);
    expect(Math.abs(systemClock.now().getTime() - Date.now())).toBeLessThan(50);
  });
});
