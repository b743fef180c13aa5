import { describe, expect, it } from "@jest/globals";
import {
  createHttpHeaders,
  createPipelineRequest,
  RestError,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { pino } from "pino";
import { armPolicy, operationName, subscriptionOf } from "../../../src/azure/arm-policy.ts";
import type { Clock } from "../../../src/runtime/clock.ts";
import { AzureError } from "../../../src/azure/port.ts";
import { SubscriptionRateLimiter } from "../../../src/azure/token-bucket.ts";

const URL_NSG =
  "https://arm.test/subscriptions/sub-1/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n/securityRules/drawbridge-a?api-version=2026-01-01";

/** Time jumps by exactly each requested sleep, so tests see the delays without waiting. */
class SteppingClock implements Clock {
  t = 0;
  readonly sleeps: number[] = [];
  now(): Date {
    return new Date(this.t);
  }
  setTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    this.sleeps.push(ms);
    this.t += ms;
    return setTimeout(fn, 0);
  }
  clearTimer(t: unknown): void {
    clearTimeout(t as ReturnType<typeof setTimeout>);
  }
}

function response(
  request: PipelineRequest,
  status: number,
  body = "",
  headers: Record<string, string> = {},
): PipelineResponse {
  return { request, status, headers: createHttpHeaders(headers), bodyAsText: body };
}

interface Setup {
  clock: SteppingClock;
  calls: Array<[string, number | "error"]>;
  policy: PipelinePolicy;
  limiter: SubscriptionRateLimiter;
}

function setup(
  opts: { maxRetries?: number; limits?: ConstructorParameters<typeof SubscriptionRateLimiter>[0] } = {},
): Setup {
  const clock = new SteppingClock();
  const calls: Array<[string, number | "error"]> = [];
  const limiter = new SubscriptionRateLimiter(
    opts.limits ?? { readsPerSec: 1000, readBurst: 1000, writesPerSec: 1000, writeBurst: 1000 },
  );
  const policy = armPolicy({
    clock,
    limiter,
    retry: { maxRetries: opts.maxRetries ?? 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 },
    requestTimeoutMs: 1234,
    random: () => 0,
    logger: pino({ level: "silent" }),
    onArmCall: (op, status) => calls.push([op, status]),
  });
  return { clock, calls, policy, limiter };
}

describe("operationName / subscriptionOf", () => {
  it("names the call by method and last resource type", () => {
    expect(operationName("put", URL_NSG)).toBe("PUT securityRules");
    expect(
      operationName(
        "GET",
        "https://arm.test/subscriptions/s/providers/Microsoft.Network/networkSecurityGroups",
      ),
    ).toBe("GET networkSecurityGroups");
    expect(operationName("GET", "https://arm.test/other")).toBe("GET unknown");
    expect(subscriptionOf(URL_NSG)).toBe("sub-1");
  });
});

describe("armPolicy", () => {
  it("retries a 503 and an AnotherOperationInProgress 409, then returns the success", async () => {
    const { policy, calls, clock } = setup();
    const answers = [
      { status: 503, body: "" },
      { status: 409, body: '{"error":{"code":"AnotherOperationInProgress","message":"busy"}}' },
      { status: 200, body: "{}" },
    ];
    const req = createPipelineRequest({ url: URL_NSG, method: "PUT" });
    const res = await policy.sendRequest(req, (r) => {
      const a = answers.shift()!;
      return Promise.resolve(response(r, a.status, a.body));
    });
    expect(res.status).toBe(200);
    expect(calls).toEqual([
      ["PUT securityRules", 503],
      ["PUT securityRules", 409],
      ["PUT securityRules", 200],
    ]);
    expect(clock.sleeps).toEqual([50, 100]); // equal-jitter backoff with random() = 0
    expect(req.timeout).toBe(1234);
  });

  it("waits what Retry-After asks for on a 429", async () => {
    const { policy, clock } = setup();
    let n = 0;
    const req = createPipelineRequest({ url: URL_NSG, method: "GET" });
    const res = await policy.sendRequest(req, (r) =>
      Promise.resolve(n++ === 0 ? response(r, 429, "", { "retry-after": "2" }) : response(r, 200)),
    );
    expect(res.status).toBe(200);
    expect(clock.sleeps).toEqual([2000]);
  });

  it("returns the last failing response once retries are exhausted", async () => {
    const { policy, calls } = setup({ maxRetries: 2 });
    const req = createPipelineRequest({ url: URL_NSG, method: "GET" });
    const res = await policy.sendRequest(req, (r) => Promise.resolve(response(r, 500)));
    expect(res.status).toBe(500);
    expect(calls).toHaveLength(3);
  });

  it("does not retry a 412 or a 400", async () => {
    const { policy, calls } = setup();
    for (const status of [412, 400]) {
      const req = createPipelineRequest({ url: URL_NSG, method: "PUT" });
      const res = await policy.sendRequest(req, (r) => Promise.resolve(response(r, status)));
      expect(res.status).toBe(status);
    }
    expect(calls).toHaveLength(2);
  });

  it("turns dropped connections into a Transient AzureError after the retries", async () => {
    const { policy, calls } = setup({ maxRetries: 1 });
    const req = createPipelineRequest({ url: URL_NSG, method: "GET" });
    const err = await policy
      .sendRequest(req, () => Promise.reject(new RestError("socket hang up", { code: "ECONNRESET" })))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AzureError);
    expect((err as AzureError).kind).toBe("Transient");
    expect((err as AzureError).code).toBe("ConnectionFailed");
    expect((err as AzureError).message).toMatch(/connection failed \(ECONNRESET\) after 2 attempt/);
    expect(calls).toEqual([
      ["GET securityRules", "error"],
      ["GET securityRules", "error"],
    ]);
  });

  it("reports a timeout as RequestTimeout", async () => {
    const { policy } = setup({ maxRetries: 0 });
    const abort = new Error("aborted");
    abort.name = "AbortError";
    const req = createPipelineRequest({ url: URL_NSG, method: "GET" });
    const err = (await policy
      .sendRequest(req, () => Promise.reject(abort))
      .catch((e: unknown) => e)) as AzureError;
    expect(err.code).toBe("RequestTimeout");
    expect(err.message).toMatch(/no answer within 1234 ms/);
  });

  it("does not retry when the caller aborted", async () => {
    const { policy, calls } = setup();
    const ac = new AbortController();
    const req = createPipelineRequest({ url: URL_NSG, method: "GET", abortSignal: ac.signal });
    const abort = new Error("aborted");
    abort.name = "AbortError";
    await expect(
      policy.sendRequest(req, () => {
        ac.abort();
        return Promise.reject(abort);
      }),
    ).rejects.toBe(abort);
    expect(calls).toHaveLength(1);
  });

  it("holds writes beyond the burst for the token bucket", async () => {
    const { policy, clock, limiter } = setup({
      limits: { readsPerSec: 100, readBurst: 100, writesPerSec: 2, writeBurst: 2 },
    });
    for (let i = 0; i < 4; i++) {
      await policy.sendRequest(createPipelineRequest({ url: URL_NSG, method: "PUT" }), (r) =>
        Promise.resolve(response(r, 200)),
      );
    }
    // Two go at once; the third waits 500 ms; the fourth is due at 1000 ms, 500 ms after the third.
    expect(clock.sleeps).toEqual([500, 500]);
    expect(limiter.delayedCalls).toBe(2);
  });
});
