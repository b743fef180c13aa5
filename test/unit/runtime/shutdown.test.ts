import { describe, expect, it } from "@jest/globals";
import { EventEmitter } from "node:events";
import { Shutdown } from "../../../src/runtime/shutdown.ts";

function signals(): EventEmitter & { on(sig: "SIGTERM" | "SIGINT", fn: () => void): unknown } {
  return new EventEmitter();
}

describe("Shutdown", () => {
  it("runs closers in reverse order on SIGTERM, once", async () => {
    const order: string[] = [];
    const sig = signals();
    const s = new Shutdown({ signals: sig, forceExit: () => order.push("forced") });
    s.register("http", () => void order.push("http"));
    s.register("informers", async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push("informers");
    });
    s.register("queue", () => void order.push("queue"));
    s.install();
    sig.emit("SIGTERM");
    await s.done;
    expect(order).toEqual(["queue", "informers", "http"]);
    expect(s.reason).toBe("signal");
    expect(sig.listenerCount("SIGTERM")).toBe(0);
  });

  it("continues past failing closers and bounds the total time by the deadline", async () => {
    const order: string[] = [];
    const errors: string[] = [];
    const s = new Shutdown({
      // Long enough that a loaded machine still reaches the failing closer before it passes; the
      // hanging closer then spends the rest of it.
      deadlineMs: 1_000,
      signals: signals(),
      logger: { info: () => undefined, error: (_o, msg) => errors.push(msg) },
    });
    s.register("last", () => void order.push("last"));
    s.register("hangs", () => new Promise<void>(() => undefined));
    s.register("throws", () => {
      throw new Error("x");
    });
    // A closer that never settles must not hold shutdown: run() ends (long before this 10 s
    // guard, which only turns a hang into a failure rather than timing the deadline).
    let guard: NodeJS.Timeout | undefined;
    const hung = new Promise<string>((r) => {
      guard = setTimeout(() => {
        r("hung");
      }, 10_000);
    });
    const outcome = await Promise.race([s.run("test").then(() => "ended"), hung]);
    clearTimeout(guard);
    expect(outcome).toBe("ended");
    expect(errors).toEqual(expect.arrayContaining(["closer failed", "closer timed out"]));
    expect(order).toEqual([]);
    expect(errors).toContain("shutdown deadline passed; skipping closer");
  });

  it("exits at once on a second signal", async () => {
    const sig = signals();
    let forced = 0;
    const s = new Shutdown({
      signals: sig,
      forceExit: () => {
        forced++;
      },
    });
    let release!: () => void;
    s.register("slow", () => new Promise<void>((r) => (release = r)));
    s.install();
    sig.emit("SIGINT");
    await new Promise((r) => setImmediate(r));
    sig.emit("SIGINT");
    expect(forced).toBe(1);
    release();
    await s.done;
  });
});
