import { afterEach, describe, expect, it } from "@jest/globals";
import { Writable } from "node:stream";
import { createLogger } from "../../../src/runtime/logger.ts";
import { watchLoopStalls } from "../../../src/runtime/loop-stall.ts";

type Line = { msg: string; stalledMs?: number; component?: string };

let stop: (() => void) | undefined;
afterEach(() => {
  stop?.();
  stop = undefined;
});

function sinkOf(lines: Line[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb): void {
      lines.push(JSON.parse(chunk.toString()) as Line);
      cb();
    },
  });
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A watchdog every 10 ms on a monotonic clock the test moves (`jump`), as a stalled loop would. */
function watched(onStall?: (ms: number) => void): { lines: Line[]; jump: (ms: number) => void } {
  const lines: Line[] = [];
  let offset = 0;
  stop = watchLoopStalls({
    logger: createLogger("info", sinkOf(lines)),
    intervalMs: 10,
    thresholdMs: 1_000,
    now: () => performance.now() + offset,
    ...(onStall === undefined ? {} : { onStall }),
  });
  return {
    lines,
    jump: (ms) => {
      offset += ms;
    },
  };
}

describe("watchLoopStalls", () => {
  it("logs and reports a timer that fired later than the threshold, with how late", async () => {
    const stalls: number[] = [];
    const { lines, jump } = watched((ms) => void stalls.push(ms));
    await tick(40);
    expect(stalls).toEqual([]);
    // 5 s pass between two timer runs.
    jump(5_000);
    await tick(40);
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toBeGreaterThanOrEqual(4_990);
    expect(stalls[0]).toBeLessThan(6_000);
    const warned = lines.filter((l) => l.msg === "event loop stalled: timers ran late");
    expect(warned.map((l) => l.stalledMs)).toEqual(stalls);
  });

  it("stays quiet while timers run on time, and stops when told", async () => {
    const { lines, jump } = watched();
    await tick(50);
    stop?.();
    jump(5_000);
    await tick(40);
    expect(lines).toEqual([]);
  });
});
