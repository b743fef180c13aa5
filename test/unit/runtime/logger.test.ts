import { describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createLogger, forObject } from "../../../src/runtime/logger.ts";

describe("createLogger", () => {
  it("writes JSON lines with a level label and object fields on child loggers", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb): void {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger("info", sink);
    log.debug("hidden");
    forObject(log, { request: "team-a/alice-1", nsg: "/subscriptions/x/nsg" }).info(
      { phase: "Active" },
      "granted",
    );
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec).toMatchObject({
      level: "info",
      msg: "granted",
      request: "team-a/alice-1",
      nsg: "/subscriptions/x/nsg",
      phase: "Active",
      component: "drawbridge",
    });
    expect(typeof rec.time).toBe("string");
  });
});

describe("createLogger on stdout", () => {
  const fixture = fileURLToPath(new URL("./fixtures/log-burst.ts", import.meta.url));

  it("does not wait for the reader of stdout, and loses no line when the process exits at once", async () => {
    // 5,000 lines of ~300 bytes are far more than a pipe holds (64 KiB): a synchronous logger would
    // block until stdout is read, so "logged" would never reach stderr while stdout is unread.
    const child = spawn(process.execPath, [fixture, "5000"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.pause();
    const logged = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        resolve(false);
      }, 20_000);
      child.stderr.on("data", (d: Buffer) => {
        if (d.toString().includes("logged")) {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(logged).toBe(true);
    expect(code).toBe(0);
    const lines = out.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(5000);
    expect((JSON.parse(lines[4999] ?? "{}") as { i?: number }).i).toBe(4999);
  }, 60_000);
});
