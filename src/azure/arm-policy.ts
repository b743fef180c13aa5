// One pipeline policy that owns everything per ARM request: the client-side token bucket, the
// per-request timeout, retries honouring Retry-After, metrics and logs. The SDK's own retry policy
// is switched off (retryOptions.maxRetries = 0) so every attempt is counted and bounded here.
import type {
  PipelinePolicy,
  PipelineRequest,
  PipelineResponse,
  SendRequest,
} from "@azure/core-rest-pipeline";
import type { Logger } from "pino";
import { sleep, type Clock } from "../runtime/clock.ts";
import { armErrorCode, parseRetryAfterMs } from "./errors.ts";
import { AzureError } from "./port.ts";
import { retryDelayMs, type AttemptOutcome, type RetryOptions } from "./retry.ts";
import type { CallKind, SubscriptionRateLimiter } from "./token-bucket.ts";

export type ArmCallHook = (op: string, status: number | "error", ms: number) => void;

export interface ArmPolicyDeps {
  clock: Clock;
  limiter: SubscriptionRateLimiter;
  retry: RetryOptions;
  requestTimeoutMs: number;
  random: () => number;
  logger: Logger;
  onArmCall?: ArmCallHook | undefined;
}

export const ARM_POLICY_NAME = "drawbridgeArmPolicy";

/** "GET networkSecurityGroups", "PUT securityRules", ...: the last resource type in the URL path. */
export function operationName(method: string, url: string): string {
  const segments = new URL(url).pathname.split("/").filter((s) => s !== "");
  const p = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  let type = "unknown";
  if (p >= 0) {
    // After "providers": namespace, then alternating type/name pairs.
    const rest = segments.slice(p + 2);
    for (let i = 0; i < rest.length; i += 2) type = rest[i] ?? type;
  }
  return `${method.toUpperCase()} ${type}`;
}

export function subscriptionOf(url: string): string {
  const m = /\/subscriptions\/([^/?]+)/i.exec(new URL(url).pathname);
  return m?.[1] ?? "";
}

function callKind(method: string): CallKind {
  const m = method.toUpperCase();
  return m === "GET" || m === "HEAD" ? "read" : "write";
}

function isAbort(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { name?: unknown }).name === "AbortError";
}

function errorCode(err: unknown): string | undefined {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

export function armPolicy(deps: ArmPolicyDeps): PipelinePolicy {
  const nowMs = (): number => deps.clock.now().getTime();
  return {
    name: ARM_POLICY_NAME,
    async sendRequest(request: PipelineRequest, next: SendRequest): Promise<PipelineResponse> {
      const op = operationName(request.method, request.url);
      const sub = subscriptionOf(request.url);
      const kind = callKind(request.method);
      const callerSignal = request.abortSignal;
      for (let retryIndex = 0; ; retryIndex++) {
        const wait = deps.limiter.reserve(sub, kind, nowMs());
        if (wait > 0) {
          deps.logger.debug({ op, subscriptionId: sub, waitMs: wait }, "client-side ARM rate limit: waiting");
          await sleep(deps.clock, wait, callerSignal as AbortSignal | undefined);
        }
        if (!(request.timeout > 0)) request.timeout = deps.requestTimeoutMs;
        const started = nowMs();
        let outcome: AttemptOutcome;
        let response: PipelineResponse | undefined;
        let failure: unknown;
        try {
          response = await next(request);
          deps.onArmCall?.(op, response.status, nowMs() - started);
          if (response.status < 400) return response;
          outcome = {
            kind: "response",
            status: response.status,
            code: armErrorCode(response.bodyAsText ?? undefined),
            retryAfterMs: parseRetryAfterMs(response.headers, nowMs()),
          };
        } catch (err) {
          deps.onArmCall?.(op, "error", nowMs() - started);
          if (callerSignal?.aborted === true) throw err;
          failure = err;
          outcome = isAbort(err) ? { kind: "timeout" } : { kind: "network", code: errorCode(err) };
        }
        const delay = retryDelayMs(retryIndex, outcome, deps.retry, deps.random);
        if (delay === undefined) {
          if (response !== undefined) return response;
          throw requestFailure(op, request, outcome, retryIndex, deps.requestTimeoutMs, failure);
        }
        deps.logger.info(
          { op, attempt: retryIndex + 1, delayMs: delay, outcome, requestId: request.requestId },
          "retrying ARM request",
        );
        await sleep(deps.clock, delay, callerSignal as AbortSignal | undefined);
      }
    },
  };
}

/** A request that got no HTTP answer, after its retries: always Transient. */
function requestFailure(
  op: string,
  request: PipelineRequest,
  outcome: AttemptOutcome,
  retries: number,
  timeoutMs: number,
  cause: unknown,
): AzureError {
  const path = new URL(request.url).pathname;
  const detail =
    outcome.kind === "timeout"
      ? `no answer within ${timeoutMs} ms`
      : `connection failed (${errorCode(cause) ?? (cause instanceof Error ? cause.message : String(cause))})`;
  return new AzureError("Transient", `${op} ${path}: ${detail} after ${retries + 1} attempt(s)`, {
    code: outcome.kind === "timeout" ? "RequestTimeout" : "ConnectionFailed",
    cause,
  });
}
