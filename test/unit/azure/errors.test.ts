import { describe, expect, it } from "@jest/globals";
import { createHttpHeaders, createPipelineRequest, RestError } from "@azure/core-rest-pipeline";
import {
  armErrorCode,
  isRetryableStatus,
  kindForStatus,
  parseRetryAfterMs,
  toAzureError,
} from "../../../src/azure/errors.ts";
import { AzureError } from "../../../src/azure/port.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

function restError(status: number, code: string, headers: Record<string, string> = {}): RestError {
  const request = createPipelineRequest({ url: "https://arm.test/x" });
  return new RestError(`${code} happened`, {
    statusCode: status,
    code,
    request,
    response: { status, headers: createHttpHeaders(headers), request },
  });
}

describe("parseRetryAfterMs", () => {
  it("reads delta-seconds, HTTP dates and the millisecond headers", () => {
    expect(parseRetryAfterMs(createHttpHeaders({ "retry-after": "7" }), NOW)).toBe(7000);
    expect(parseRetryAfterMs(createHttpHeaders({ "retry-after-ms": "250" }), NOW)).toBe(250);
    expect(parseRetryAfterMs(createHttpHeaders({ "x-ms-retry-after-ms": "40" }), NOW)).toBe(40);
    const date = new Date(NOW + 3000).toUTCString();
    expect(parseRetryAfterMs(createHttpHeaders({ "retry-after": date }), NOW)).toBe(3000);
  });

  it("prefers the millisecond header and ignores garbage", () => {
    expect(parseRetryAfterMs(createHttpHeaders({ "retry-after": "9", "retry-after-ms": "15" }), NOW)).toBe(
      15,
    );
    expect(parseRetryAfterMs(createHttpHeaders({ "retry-after": "soon" }), NOW)).toBeUndefined();
    expect(parseRetryAfterMs(createHttpHeaders({}), NOW)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, NOW)).toBeUndefined();
  });

  it("never returns a negative delay for a date in the past", () => {
    const past = new Date(NOW - 60_000).toUTCString();
    expect(parseRetryAfterMs(createHttpHeaders({ "retry-after": past }), NOW)).toBe(0);
  });
});

describe("kindForStatus / isRetryableStatus", () => {
  it.each([
    [429, undefined, "Throttled"],
    [409, "AnotherOperationInProgress", "Conflict"],
    [409, "SecurityRuleConflict", "Conflict"],
    [412, undefined, "PreconditionFailed"],
    [404, "ResourceNotFound", "NotFound"],
    [400, "SecurityRuleInvalidPortRange", "Invalid"],
    [401, "AuthenticationFailed", "Unauthorized"],
    [403, "AuthorizationFailed", "Unauthorized"],
    [500, undefined, "Transient"],
    [503, undefined, "Transient"],
    [408, undefined, "Transient"],
    [undefined, "ECONNRESET", "Transient"],
  ] as const)("status %s code %s -> %s", (status, code, kind) => {
    expect(kindForStatus(status, code)).toBe(kind);
  });

  it("retries throttling, server errors and a busy NSG, not refusals", () => {
    expect(isRetryableStatus(429, undefined)).toBe(true);
    expect(isRetryableStatus(503, undefined)).toBe(true);
    expect(isRetryableStatus(500, "InternalServerError")).toBe(true);
    expect(isRetryableStatus(409, "AnotherOperationInProgress")).toBe(true);
    expect(isRetryableStatus(409, "SecurityRuleConflict")).toBe(false);
    expect(isRetryableStatus(412, undefined)).toBe(false);
    expect(isRetryableStatus(400, "InvalidRequestFormat")).toBe(false);
    expect(isRetryableStatus(404, undefined)).toBe(false);
    expect(isRetryableStatus(501, undefined)).toBe(false);
  });
});

describe("armErrorCode", () => {
  it("reads the CloudError code", () => {
    expect(armErrorCode('{"error":{"code":"AnotherOperationInProgress","message":"busy"}}')).toBe(
      "AnotherOperationInProgress",
    );
    expect(armErrorCode("not json")).toBeUndefined();
    expect(armErrorCode(undefined)).toBeUndefined();
  });
});

describe("toAzureError", () => {
  it("keeps status, ARM code, message and Retry-After of a throttled call", () => {
    const e = toAzureError(
      restError(429, "SubscriptionRequestsThrottled", { "retry-after": "3" }),
      "GET NSG x",
      NOW,
    );
    expect(e).toBeInstanceOf(AzureError);
    expect(e.kind).toBe("Throttled");
    expect(e.retryable).toBe(true);
    expect(e.statusCode).toBe(429);
    expect(e.code).toBe("SubscriptionRequestsThrottled");
    expect(e.retryAfterMs).toBe(3000);
    expect(e.message).toContain("GET NSG x");
    expect(e.message).toContain("SubscriptionRequestsThrottled happened");
  });

  it("maps 412 to PreconditionFailed and 400 to a non-retryable Invalid", () => {
    expect(toAzureError(restError(412, "PreconditionFailed"), "PUT", NOW).kind).toBe("PreconditionFailed");
    const invalid = toAzureError(restError(400, "SecurityRuleInvalidPriority"), "PUT", NOW);
    expect(invalid.kind).toBe("Invalid");
    expect(invalid.retryable).toBe(false);
  });

  it("maps a connection failure without a response to Transient", () => {
    const e = toAzureError(new RestError("socket hang up", { code: "ECONNRESET" }), "GET", NOW);
    expect(e.kind).toBe("Transient");
    expect(e.statusCode).toBeUndefined();
    expect(e.code).toBe("ECONNRESET");
  });

  it("parses the failed long-running operation message of core-lro", () => {
    const lro = new Error(
      "The long-running operation has failed. AnotherOperationInProgress. Another operation on this resource is in progress.",
    );
    const e = toAzureError(lro, "PUT rule", NOW);
    expect(e.kind).toBe("Conflict");
    expect(e.code).toBe("AnotherOperationInProgress");
    const bad = toAzureError(
      new Error(
        "The long-running operation has failed. SecurityRuleInvalidPortRange. Port 70000 out of range.",
      ),
      "PUT",
      NOW,
    );
    expect(bad.kind).toBe("Invalid");
    const clash = toAzureError(
      new Error("The long-running operation has failed. SecurityRuleConflict. Same priority and direction."),
      "PUT",
      NOW,
    );
    expect(clash.kind).toBe("Invalid");
    const other = toAzureError(
      new Error("The long-running operation has failed. InternalServerError. x."),
      "PUT",
      NOW,
    );
    expect(other.kind).toBe("Transient");
  });

  it("passes AzureErrors through unchanged", () => {
    const original = new AzureError("NotFound", "gone");
    expect(toAzureError(original, "x", NOW)).toBe(original);
  });
});
