import { describe, expect, it } from "@jest/globals";
import { Writable } from "node:stream";
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
