import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  backoffMs,
  DEFAULT_RETRY_OPTIONS,
  retryDelayMs,
  validateRetryOptions,
} from "../../../src/azure/retry.ts";

const opts = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };
const half = (): number => 0.5;

describe("backoffMs", () => {
  it("doubles per retry, is capped, and jitters within [ceiling/2, ceiling]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (i, r) => {
          const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** i);
          const d = backoffMs(i, opts, () => r);
          return d >= Math.floor(ceiling / 2) && d <= ceiling;
        },
      ),
    );
    expect(backoffMs(0, opts, () => 0)).toBe(50);
    expect(backoffMs(2, opts, () => 0.9999)).toBe(400);
    expect(backoffMs(10, opts, () => 0.9999)).toBe(1000);
  });
});

describe("retryDelayMs", () => {
  it("retries throttling, 5xx, busy NSG, timeouts and dropped connections", () => {
    expect(retryDelayMs(0, { kind: "response", status: 503 }, opts, half)).toBe(75);
    expect(retryDelayMs(0, { kind: "response", status: 500 }, opts, half)).toBe(75);
    expect(
      retryDelayMs(0, { kind: "response", status: 409, code: "AnotherOperationInProgress" }, opts, half),
    ).toBe(75);
    expect(retryDelayMs(1, { kind: "timeout" }, opts, half)).toBe(150);
    expect(retryDelayMs(2, { kind: "network", code: "ECONNRESET" }, opts, half)).toBe(300);
  });

  it("does not retry refusals", () => {
    for (const status of [400, 401, 403, 404, 412]) {
      expect(retryDelayMs(0, { kind: "response", status }, opts, half)).toBeUndefined();
    }
    expect(
      retryDelayMs(0, { kind: "response", status: 409, code: "SecurityRuleConflict" }, opts, half),
    ).toBeUndefined();
  });

  it("honours Retry-After (plus a little jitter) instead of the backoff", () => {
    expect(retryDelayMs(0, { kind: "response", status: 429, retryAfterMs: 2000 }, opts, () => 0)).toBe(2000);
    expect(retryDelayMs(0, { kind: "response", status: 429, retryAfterMs: 2000 }, opts, half)).toBe(2050);
  });

  it("hands a long Retry-After back to the caller instead of holding the worker", () => {
    expect(
      retryDelayMs(0, { kind: "response", status: 429, retryAfterMs: 5001 }, opts, half),
    ).toBeUndefined();
  });

  it("stops after maxRetries", () => {
    expect(retryDelayMs(2, { kind: "timeout" }, opts, half)).toBe(300);
    expect(retryDelayMs(3, { kind: "timeout" }, opts, half)).toBeUndefined();
    expect(retryDelayMs(0, { kind: "timeout" }, { ...opts, maxRetries: 0 }, half)).toBeUndefined();
  });
});

describe("validateRetryOptions", () => {
  it("accepts the defaults and names the bad field", () => {
    expect(() => {
      validateRetryOptions(DEFAULT_RETRY_OPTIONS);
    }).not.toThrow();
    expect(() => {
      validateRetryOptions({ ...opts, maxRetries: -1 });
    }).toThrow(/retry\.maxRetries must be an integer in 0\.\.10, got -1/);
    expect(() => {
      validateRetryOptions({ ...opts, baseDelayMs: 1.5 });
    }).toThrow(/retry\.baseDelayMs/);
  });
});
