import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { createAzureAdapter, type AzureAdapterOptions } from "../../../src/azure/adapter.ts";
import { StaticTokenCredential } from "../../../src/azure/credentials.ts";

const base: AzureAdapterOptions = {
  credential: new StaticTokenCredential("t"),
  endpoint: "https://127.0.0.1:1",
  logger: pino({ level: "silent" }),
};

describe("createAzureAdapter options", () => {
  it.each([
    [{ endpoint: "http://127.0.0.1:8443" }, /endpoint must use https/],
    [{ endpoint: "not a url" }, /endpoint must be an absolute https URL/],
    [{ requestTimeoutMs: 0 }, /requestTimeoutMs must be an integer in 1\.\.600000, got 0/],
    [{ pollIntervalMs: 1.5 }, /pollIntervalMs must be an integer/],
    [{ maxRetries: 11 }, /retry\.maxRetries must be an integer in 0\.\.10, got 11/],
    [{ rateLimit: { writesPerSec: 0 } }, /rateLimit\.writesPerSec must be a positive number/],
    [{ rateLimit: { readBurst: 0.5 } }, /rateLimit\.readBurst/],
    [{ vmCacheTtlMs: -1 }, /vmCacheTtlMs must be a non-negative/],
  ] as const)("rejects %j naming the field", (extra, message) => {
    expect(() => createAzureAdapter({ ...base, ...extra })).toThrow(message);
  });

  it("accepts the defaults and starts with empty stats", () => {
    const a = createAzureAdapter(base);
    expect(a.stats()).toEqual({ lastListPages: 0, rateLimitedCalls: 0, vmLoads: 0 });
    a.close();
  });
});
