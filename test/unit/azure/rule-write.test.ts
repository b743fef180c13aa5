// The rule PUT/DELETE sent without @azure/arm-network's operation layer: the same api-version and
// body as the SDK, and core-lro's long-running-operation rules, against scripted ARM answers.
import { describe, expect, it } from "@jest/globals";
import { NetworkManagementClient } from "@azure/arm-network";
import {
  createEmptyPipeline,
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { StaticTokenCredential } from "../../../src/azure/credentials.ts";
import { toAzureError } from "../../../src/azure/errors.ts";
import { parseNsgId } from "../../../src/azure/ids.ts";
import {
  ruleWireBody,
  SECURITY_RULES_API_VERSION,
  securityRuleUrl,
  writeRule,
  type RuleWriteDeps,
} from "../../../src/azure/rule-write.ts";
import { toSdkRule } from "../../../src/azure/mapping.ts";
import type { SecurityRule } from "../../../src/core/nsg.ts";
import { FakeClock, systemClock, type Clock } from "../../../src/runtime/clock.ts";

const ENDPOINT = "https://arm.test";
const SUB = "00000000-0000-0000-0000-000000000001";
const NSG_ID = `/subscriptions/${SUB}/resourceGroups/demo-rg/providers/Microsoft.Network/networkSecurityGroups/jump-nsg`;
const RULE_URL = securityRuleUrl(ENDPOINT, parseNsgId(NSG_ID), "drawbridge-g-x");
const OP_URL = `${ENDPOINT}/subscriptions/${SUB}/providers/Microsoft.Network/locations/westeurope/operations/op-1?api-version=2026-01-01`;
const RESULT_URL = `${ENDPOINT}/subscriptions/${SUB}/providers/Microsoft.Network/locations/westeurope/operationResults/op-1`;

const RULE: SecurityRule = {
  name: "drawbridge-g-x",
  priority: 100,
  direction: "Inbound",
  access: "Allow",
  protocol: "Tcp",
  description: "drawbridge grant team-a/web-admin port 22",
  sourceAddressPrefixes: ["203.0.113.7/32", "203.0.113.9/32"],
  sourcePortRange: "*",
  destinationAddressPrefix: "10.0.2.4",
  destinationPortRanges: ["22", "3389"],
  etag: 'W/"read-only"',
  provisioningState: "Succeeded",
};

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface Seen {
  method: string;
  url: string;
  body: unknown;
  at: number;
}

/** An HttpClient that records each request and answers from the script, in order. */
function scripted(
  answers: Answer[],
  clock: { now(): Date } = systemClock,
): { client: HttpClient; seen: Seen[] } {
  const seen: Seen[] = [];
  const client: HttpClient = {
    sendRequest: (req: PipelineRequest): Promise<PipelineResponse> => {
      seen.push({
        method: req.method,
        url: req.url,
        body: typeof req.body === "string" ? JSON.parse(req.body) : undefined,
        at: clock.now().getTime(),
      });
      const a = answers.shift() ?? { status: 599 };
      return Promise.resolve({
        request: req,
        status: a.status,
        headers: createHttpHeaders(a.headers),
        bodyAsText: a.body === undefined ? "" : JSON.stringify(a.body),
      });
    },
  };
  return { client, seen };
}

function deps(client: HttpClient, clock: Clock = systemClock): RuleWriteDeps {
  return { pipeline: createEmptyPipeline(), httpClient: client, clock, pollIntervalMs: 1 };
}

const signal = (): AbortSignal => AbortSignal.timeout(10_000);

/** The AzureError a write's failure becomes in the adapter (its guarded() wrapper). */
async function failure(p: Promise<unknown>): Promise<ReturnType<typeof toAzureError>> {
  return toAzureError(
    await p.then(
      () => new Error("resolved"),
      (e: unknown) => e,
    ),
    "PUT rule",
    Date.now(),
  );
}

describe("the request is the SDK's", () => {
  it("sends the api-version and the rule properties @azure/arm-network sends", async () => {
    const { client, seen } = scripted([
      { status: 400, body: { error: { code: "Stop", message: "stop" } } },
      { status: 400, body: { error: { code: "Stop", message: "stop" } } },
    ]);
    const sdk = new NetworkManagementClient(new StaticTokenCredential("t"), SUB, {
      endpoint: ENDPOINT,
      httpClient: client,
      retryOptions: { maxRetries: 0 },
    });
    await expect(
      sdk.securityRules.createOrUpdate("demo-rg", "jump-nsg", RULE.name, toSdkRule(RULE)).pollUntilDone(),
    ).rejects.toThrow();
    await expect(
      sdk.securityRules.delete("demo-rg", "jump-nsg", RULE.name).pollUntilDone(),
    ).rejects.toThrow();
    const [put, del] = seen;
    expect(new URL(put!.url).searchParams.get("api-version")).toBe(SECURITY_RULES_API_VERSION);
    expect(new URL(del!.url).searchParams.get("api-version")).toBe(SECURITY_RULES_API_VERSION);
    expect(RULE_URL).toBe(put!.url);
    expect(RULE_URL).toBe(del!.url);
    // The SDK also sends the name, which is in the URL; the properties are the same, field for field.
    expect(put!.body).toEqual({ name: RULE.name, properties: ruleWireBody(RULE).properties });
    expect(Object.keys(ruleWireBody(RULE))).toEqual(["properties"]);
    expect(ruleWireBody(RULE).properties).not.toHaveProperty("etag");
    expect(ruleWireBody(RULE).properties).not.toHaveProperty("provisioningState");
  });
});

describe("long-running operations", () => {
  it("polls Azure-AsyncOperation until Succeeded and never reads the rule back", async () => {
    const { client, seen } = scripted([
      { status: 201, headers: { "azure-asyncoperation": OP_URL }, body: { name: RULE.name } },
      { status: 200, body: { status: "InProgress" } },
      { status: 200, body: { status: "Succeeded" } },
    ]);
    await writeRule(deps(client), "PUT", RULE_URL, ruleWireBody(RULE), signal());
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      `PUT ${RULE_URL}`,
      `GET ${OP_URL}`,
      `GET ${OP_URL}`,
    ]);
    expect(seen[0]!.body).toEqual(ruleWireBody(RULE));
  });

  it("prefers Azure-AsyncOperation to Location, as core-lro does for a DELETE", async () => {
    const { client, seen } = scripted([
      { status: 202, headers: { "azure-asyncoperation": OP_URL, location: RESULT_URL } },
      { status: 200, body: { status: "Succeeded" } },
    ]);
    await writeRule(deps(client), "DELETE", RULE_URL, undefined, signal());
    expect(seen.map((s) => s.url)).toEqual([RULE_URL, OP_URL]);
    expect(seen[0]!.body).toBeUndefined();
  });

  it("polls Location alone until it stops answering 202, adding the api-version", async () => {
    const { client, seen } = scripted([
      { status: 202, headers: { location: RESULT_URL } },
      { status: 202, headers: { location: RESULT_URL } },
      { status: 204 },
    ]);
    await writeRule(deps(client), "DELETE", RULE_URL, undefined, signal());
    const withVersion = `${RESULT_URL}?api-version=${SECURITY_RULES_API_VERSION}`;
    expect(seen.map((s) => s.url)).toEqual([RULE_URL, withVersion, withVersion]);
  });

  it.each([200, 201, 204])("is done at once on a %i without a poll header", async (status) => {
    const { client, seen } = scripted([{ status }]);
    await writeRule(deps(client), "PUT", RULE_URL, ruleWireBody(RULE), signal());
    expect(seen).toHaveLength(1);
  });

  it("waits Retry-After between polls, else the poll interval; the first poll goes at once", async () => {
    const clock = new FakeClock();
    const { client, seen } = scripted(
      [
        { status: 201, headers: { "azure-asyncoperation": OP_URL, "retry-after": "5" } },
        { status: 200, headers: { "retry-after": "2" }, body: { status: "InProgress" } },
        { status: 200, body: { status: "InProgress" } },
        { status: 200, body: { status: "Succeeded" } },
      ],
      clock,
    );
    const state = { settled: false };
    const p = writeRule(
      { ...deps(client, clock), pollIntervalMs: 300 },
      "PUT",
      RULE_URL,
      ruleWireBody(RULE),
      signal(),
    ).finally(() => {
      state.settled = true;
    });
    for (let i = 0; i < 1000 && !state.settled; i++) await clock.advanceAsync(10);
    await p;
    const t0 = seen[0]!.at;
    const offsets = seen.map((s) => s.at - t0);
    expect(offsets[1]).toBe(0);
    expect(offsets[2]).toBeGreaterThanOrEqual(2000);
    expect(offsets[2]).toBeLessThanOrEqual(2010);
    expect(offsets[3]! - offsets[2]!).toBeGreaterThanOrEqual(300);
    expect(offsets[3]! - offsets[2]!).toBeLessThanOrEqual(310);
  });
});

describe("failures map as the SDK's did", () => {
  it("turns a Failed operation into the AzureError of its code (SecurityRuleConflict -> Invalid)", async () => {
    const { client } = scripted([
      { status: 201, headers: { "azure-asyncoperation": OP_URL } },
      {
        status: 200,
        body: {
          status: "Failed",
          error: { code: "SecurityRuleConflict", message: "Rule conflicts with rule allow-https." },
        },
      },
    ]);
    const e = await failure(writeRule(deps(client), "PUT", RULE_URL, ruleWireBody(RULE), signal()));
    expect(e).toMatchObject({ kind: "Invalid", code: "SecurityRuleConflict" });
    expect(e.message).toMatch(/operation failed: SecurityRuleConflict: Rule conflicts with rule allow-https/);
  });

  it("takes the innermost code of a nested error, as core-lro", async () => {
    const { client } = scripted([
      { status: 201, headers: { "azure-asyncoperation": OP_URL } },
      {
        status: 200,
        body: {
          status: "Failed",
          error: {
            code: "Outer",
            message: "outer",
            innererror: { code: "AnotherOperationInProgress", message: "busy" },
          },
        },
      },
    ]);
    const e = await failure(writeRule(deps(client), "PUT", RULE_URL, ruleWireBody(RULE), signal()));
    expect(e).toMatchObject({ kind: "Conflict", code: "AnotherOperationInProgress" });
    expect(e.message).toMatch(/AnotherOperationInProgress: outer\. busy$/);
  });

  it("treats a failure without an error, and a canceled operation, as transient", async () => {
    const failed = scripted([
      { status: 202, headers: { "azure-asyncoperation": OP_URL } },
      { status: 200, body: { status: "Failed" } },
    ]);
    expect(
      await failure(writeRule(deps(failed.client), "DELETE", RULE_URL, undefined, signal())),
    ).toMatchObject({
      kind: "Transient",
      code: "OperationFailed",
    });
    const canceled = scripted([
      { status: 202, headers: { "azure-asyncoperation": OP_URL } },
      { status: 200, body: { status: "Canceled" } },
    ]);
    expect(
      await failure(writeRule(deps(canceled.client), "DELETE", RULE_URL, undefined, signal())),
    ).toMatchObject({ kind: "Transient", code: "OperationCanceled" });
  });

  it("maps a refused write by status, ARM code and Retry-After", async () => {
    const bad = scripted([
      {
        status: 400,
        body: { error: { code: "SecurityRuleInvalidPriority", message: "Priority 5000 is out of range." } },
      },
    ]);
    expect(
      await failure(writeRule(deps(bad.client), "PUT", RULE_URL, ruleWireBody(RULE), signal())),
    ).toMatchObject({ kind: "Invalid", code: "SecurityRuleInvalidPriority", statusCode: 400 });
    const throttled = scripted([
      {
        status: 429,
        headers: { "retry-after": "7" },
        body: { error: { code: "SubscriptionRequestsThrottled", message: "slow down" } },
      },
    ]);
    expect(
      await failure(writeRule(deps(throttled.client), "PUT", RULE_URL, ruleWireBody(RULE), signal())),
    ).toMatchObject({ kind: "Throttled", statusCode: 429, retryAfterMs: 7000 });
    const gone = scripted([{ status: 404, body: { error: { code: "NotFound", message: "no NSG" } } }]);
    expect(
      await failure(writeRule(deps(gone.client), "DELETE", RULE_URL, undefined, signal())),
    ).toMatchObject({
      kind: "NotFound",
      statusCode: 404,
    });
  });

  it("maps an error answer to a poll by its status", async () => {
    const { client } = scripted([
      { status: 201, headers: { "azure-asyncoperation": OP_URL } },
      { status: 404, body: { error: { code: "OperationNotFound", message: "gone" } } },
    ]);
    expect(
      await failure(writeRule(deps(client), "PUT", RULE_URL, ruleWireBody(RULE), signal())),
    ).toMatchObject({ kind: "NotFound", code: "OperationNotFound" });
  });

  it("stops polling when the deadline passes: Transient OperationAborted", async () => {
    const clock = new FakeClock();
    const { client, seen } = scripted(
      [
        { status: 201, headers: { "azure-asyncoperation": OP_URL } },
        { status: 200, headers: { "retry-after": "60" }, body: { status: "InProgress" } },
      ],
      clock,
    );
    const deadline = new AbortController();
    const p = failure(writeRule(deps(client, clock), "PUT", RULE_URL, ruleWireBody(RULE), deadline.signal));
    await clock.advanceAsync(1000, 100);
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    deadline.abort(timeout);
    expect(await p).toMatchObject({ kind: "Transient", code: "OperationAborted" });
    expect(seen).toHaveLength(2);
  });
});
