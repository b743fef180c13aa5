import { describe, expect, it } from "@jest/globals";
import { FakeClock } from "../../../../src/runtime/clock.ts";
import { PlacementWaits } from "../../../../src/operator/request/placement-waits.ts";

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("PlacementWaits", () => {
  it("ends a wait at the next change of its key, not of another", async () => {
    const clock = new FakeClock();
    const waits = new PlacementWaits(clock);
    let done = false;
    const waited = waits.next("team-a/alice", 2000).then(() => (done = true));
    waits.changed("team-a/bob");
    await tick();
    expect(done).toBe(false);
    waits.changed("team-a/alice");
    await tick();
    await expect(waited).resolves.toBe(true);
    expect(waits.size).toBe(0);
  });

  it("ends a wait when its time is up, and forgets it", async () => {
    const clock = new FakeClock();
    const waits = new PlacementWaits(clock);
    let done = false;
    const waited = waits.next("team-a/alice", 2000).then(() => (done = true));
    clock.advance(1999);
    await tick();
    expect(done).toBe(false);
    clock.advance(1);
    await tick();
    await expect(waited).resolves.toBe(true);
    expect(waits.size).toBe(0);
  });
});
