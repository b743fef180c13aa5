// Security rule PUT and DELETE (write mode `rule`), sent through the network client's own pipeline
// (credential, the ARM policy: token bucket, timeout, retries, metrics) and polled here rather than
// by @azure/arm-network's securityRules.createOrUpdate / delete. The SDK's poller (core-lro) always
// GETs a PUT's resource once its operation has succeeded, and the adapter never used that answer:
// it cost one ARM round trip in each NSG's serial write cycle and one call of the subscription's
// read budget per write. Otherwise this follows core-lro's long-running-operation rules for ARM.
import {
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type Pipeline,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import type { SecurityRule } from "../core/nsg.ts";
import { sleep, type Clock } from "../runtime/clock.ts";
import { jsonObjectOf, OperationFailedError, parseRetryAfterMs, restErrorOf } from "./errors.ts";
import { withApiVersion, type ArmResourceId } from "./ids.ts";
import { toSdkRule } from "./mapping.ts";

/**
 * The api-version @azure/arm-network sends for SecurityRules_CreateOrUpdate and _Delete (the client
 * does not expose it; test/unit/azure/rule-write.test.ts checks this against the SDK's requests).
 */
export const SECURITY_RULES_API_VERSION = "2026-01-01";

export interface RuleWriteDeps {
  pipeline: Pipeline;
  httpClient: HttpClient;
  clock: Clock;
  /** Delay between polls when ARM sends no Retry-After. */
  pollIntervalMs: number;
}

/** The answers a rule PUT or DELETE may start with; anything else is ARM refusing it. */
const ACCEPTED = new Set([200, 201, 202, 204]);

export function securityRuleUrl(endpoint: string, nsg: ArmResourceId, ruleName: string): string {
  const seg = encodeURIComponent;
  return (
    `${endpoint}/subscriptions/${seg(nsg.subscriptionId)}/resourceGroups/${seg(nsg.resourceGroup)}` +
    `/providers/Microsoft.Network/networkSecurityGroups/${seg(nsg.name)}/securityRules/${seg(ruleName)}` +
    `?api-version=${SECURITY_RULES_API_VERSION}`
  );
}

/**
 * The PUT body: `{ properties }` with exactly the fields toSdkRule sets, as the SDK serializes them
 * (the name is in the URL; the spec's SecurityRuleCreate example sends none in the body either).
 */
export function ruleWireBody(rule: SecurityRule): { properties: Record<string, unknown> } {
  const { name: _name, ...properties } = toSdkRule(rule);
  return { properties };
}

/**
 * Send a rule PUT (with body) or DELETE and wait until ARM says its operation is over. Resolves on
 * success; throws the RestError of an unexpected answer, OperationFailedError for an operation
 * that failed or was canceled, or the abort reason once `signal` fires. Never reads the rule back.
 */
export async function writeRule(
  deps: RuleWriteDeps,
  method: "PUT" | "DELETE",
  url: string,
  body: unknown,
  signal: AbortSignal,
): Promise<void> {
  const headers = createHttpHeaders({ accept: "application/json" });
  if (body !== undefined) headers.set("content-type", "application/json");
  const request = createPipelineRequest({
    url,
    method,
    headers,
    abortSignal: signal,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const res = await deps.pipeline.sendRequest(deps.httpClient, request);
  if (!ACCEPTED.has(res.status)) throw restErrorOf(res);
  await untilDone(deps, res, signal);
}

type PollMode = "operation" | "location";
type OperationState = "running" | "succeeded" | "failed" | "canceled";

/**
 * Where to poll, as core-lro decides for ARM: the operation status URL (`Operation-Location`, else
 * `Azure-AsyncOperation`), else `Location`; with neither the write is done. (core-lro would poll a
 * header-less PUT's own resource for its provisioningState; Network always sends
 * Azure-AsyncOperation, and a header-less answer is taken as final.)
 */
function pollTarget(res: PipelineResponse, mode?: PollMode): { url: string; mode: PollMode } | undefined {
  const op = res.headers.get("operation-location") ?? res.headers.get("azure-asyncoperation");
  if (op !== undefined && op !== "" && mode !== "location") return { url: op, mode: "operation" };
  const loc = res.headers.get("location");
  if (loc !== undefined && loc !== "" && mode !== "operation") return { url: loc, mode: "location" };
  return undefined;
}

async function untilDone(deps: RuleWriteDeps, initial: PipelineResponse, signal: AbortSignal): Promise<void> {
  const first = pollTarget(initial);
  if (first === undefined) return;
  const mode = first.mode;
  const base = initial.request.url;
  let url = new URL(first.url, base).toString();
  // The first poll goes out at once (as core-lro's); later ones after Retry-After, else the interval.
  let delayMs = 0;
  for (;;) {
    await sleep(deps.clock, delayMs, signal);
    const request = createPipelineRequest({
      url: withApiVersion(url, SECURITY_RULES_API_VERSION),
      method: "GET",
      headers: createHttpHeaders({ accept: "application/json" }),
      abortSignal: signal,
    });
    const res = await deps.pipeline.sendRequest(deps.httpClient, request);
    if (res.status < 200 || res.status > 299) throw restErrorOf(res);
    const doc = mode === "operation" ? jsonObjectOf(res.bodyAsText) : {};
    const state = mode === "operation" ? operationState(doc, res.status) : statusState(res.status);
    if (state === "succeeded") return;
    if (state === "failed") throw operationFailure(doc);
    if (state === "canceled")
      throw new OperationFailedError("OperationCanceled", "ARM canceled the operation.");
    // A poll may move the operation (core-lro follows the newer URL too).
    const moved = pollTarget(res, mode)?.url;
    if (moved !== undefined) url = new URL(moved, base).toString();
    const retryAfterMs = parseRetryAfterMs(res.headers, deps.clock.now().getTime());
    delayMs = retryAfterMs !== undefined && retryAfterMs > 0 ? retryAfterMs : deps.pollIntervalMs;
  }
}

/** AzureAsyncOperationResult.status, read as core-lro reads it; without one, by HTTP status. */
function operationState(doc: Record<string, unknown>, httpStatus: number): OperationState {
  const status = doc["status"];
  if (typeof status !== "string" || status === "") return statusState(httpStatus);
  const s = status.toLowerCase();
  if (s.includes("succeeded")) return "succeeded";
  if (s.includes("fail")) return "failed";
  if (s === "canceled" || s === "cancelled") return "canceled";
  return "running";
}

/** A Location poll: 202 while running, any other 2xx when done. */
function statusState(httpStatus: number): OperationState {
  return httpStatus === 202 ? "running" : "succeeded";
}

/** The operation's error, innermost code and every message, as core-lro reports it. */
function operationFailure(doc: Record<string, unknown>): OperationFailedError {
  let err = doc["error"];
  let code = "OperationFailed";
  const messages: string[] = [];
  while (typeof err === "object" && err !== null) {
    const e = err as { code?: unknown; message?: unknown; innererror?: unknown };
    if (typeof e.code === "string" && e.code !== "") code = e.code;
    if (typeof e.message === "string" && e.message !== "") messages.push(e.message);
    err = e.innererror;
  }
  // Joined as core-lro joins them: each message ends with a full stop before the next.
  const detail = messages
    .map((m, i) => (i < messages.length - 1 && !m.endsWith(".") ? `${m}.` : m))
    .join(" ");
  return new OperationFailedError(code, detail === "" ? "The operation failed." : detail);
}
