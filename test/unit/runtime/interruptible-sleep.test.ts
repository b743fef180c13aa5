import { describe, expect, it } from "@jest/globals";
import { FakeClock, flushMicrotasks } from "../../../src/runtime/clock.ts";
import { DeadlineExceededError, InterruptibleSleep } from "../../../src/runtime/interruptible-sleep.ts";

/** Whether p has settled, after letting its continuations run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await flushMicrotasks();
  return done;
}

describe("InterruptibleSleep", () => {
  it("a sleep ends after its time on the clock, not before", async () => {
    const clock = new FakeClock(0);
    const wait = new InterruptibleSleep(clock);
    const p = wait.sleep(1000);
    clock.advance(999);
    expect(await settled(p)).toBe(false);
    clock.advance(1);
    expect(await settled(p)).toBe(true);
    expect(wait.nowMs()).toBe(1000);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("wake() ends every sleep early and clears their timers; later sleeps wait again", async () => {
    const clock = new FakeClock(0);
    const wait = new InterruptibleSleep(clock);
    const a = wait.sleep(10_000);
    const b = wait.sleep(20_000);
    wait.wake();
    expect(await settled(Promise.all([a, b]))).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    expect(wait.isStopped()).toBe(false);
    const later = wait.sleep(500);
    expect(await settled(later)).toBe(false);
    clock.advance(500);
    expect(await settled(later)).toBe(true);
  });

  it("stop() ends a sleep in progress, and later sleeps return at once without a timer", async () => {
    const clock = new FakeClock(0);
    const wait = new InterruptibleSleep(clock);
    const p = wait.sleep(60_000);
    wait.stop();
    expect(await settled(p)).toBe(true);
    expect(wait.isStopped()).toBe(true);
    expect(await settled(wait.sleep(60_000))).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    expect(wait.nowMs()).toBe(0);
  });
});

describe("InterruptibleSleep.within", () => {
  it("rejects a call that has not settled by the deadline", async () => {
    const clock = new FakeClock(0);
    const wait = new InterruptibleSleep(clock);
    const hung = wait.within(new Promise<boolean>(() => undefined), 500);
    clock.advance(499);
    expect(await settled(hung)).toBe(false);
    clock.advance(1);
    await expect(hung).rejects.toThrow(DeadlineExceededError);
    await expect(hung).rejects.toThrow("no answer within the deadline of 500 ms");
  });

  it("passes on a call's answer in time and clears its timer", async () => {
    const clock = new FakeClock(0);
    const wait = new InterruptibleSleep(clock);
    let answer: (v: string) => void = () => undefined;
    const p = wait.within(new Promise<string>((resolve) => (answer = resolve)), 500);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(100);
    answer("ok");
    await expect(p).resolves.toBe("ok");
    expect(clock.pendingTimers()).toBe(0);
  });

  it("passes on a call's own rejection and clears its timer", async () => {
    const clock = new FakeClock(0);
    const wait = new InterruptibleSleep(clock);
    const p = wait.within(Promise.reject(new Error("connection refused")), 500);
    await expect(p).rejects.toThrow("connection refused");
    expect(clock.pendingTimers()).toBe(0);
  });

  it("rejects at once when no time is left, setting no timer", async () => {
    const clock = new FakeClock(0);
    const wait = new InterruptibleSleep(clock);
    const p = wait.within(new Promise<boolean>(() => undefined), 0);
    await expect(p).rejects.toThrow(DeadlineExceededError);
    expect(clock.pendingTimers()).toBe(0);
  });
});
