// ARM failures -> AzureError kinds the reconcilers act on. The ARM error code and message are kept
// so logs and status conditions can say exactly what Azure refused.
import { RestError, type PipelineResponse } from "@azure/core-rest-pipeline";
import { AzureError, type AzureErrorKind } from "./port.ts";

export interface HeaderSource {
  get(name: string): string | undefined;
}

/**
 * The server's requested delay in ms: `retry-after-ms` / `x-ms-retry-after-ms` (ms), or
 * `Retry-After` as delta-seconds or an HTTP date. Undefined when absent or unparsable.
 */
export function parseRetryAfterMs(headers: HeaderSource | undefined, nowMs: number): number | undefined {
  if (headers === undefined) return undefined;
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const v = headers.get(name);
    if (v !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.ceil(Number(v));
  }
  const ra = headers.get("retry-after");
  if (ra === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Math.ceil(Number(ra) * 1000);
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The error kind for an HTTP status (and ARM error code, where the status alone is ambiguous). */
export function kindForStatus(status: number | undefined, code?: string): AzureErrorKind {
  if (status === undefined) return "Transient";
  if (status === 429) return "Throttled";
  if (status === 409) return "Conflict";
  if (status === 412) return "PreconditionFailed";
  if (status === 404) return "NotFound";
  if (status === 401 || status === 403) return "Unauthorized";
  if (status === 408 || status >= 500) return "Transient";
  if (code === "AnotherOperationInProgress") return "Conflict";
  return "Invalid";
}

/** Codes a long-running operation can fail with, by kind; anything else is treated as transient. */
export function kindForLroCode(code: string): AzureErrorKind {
  // SecurityRuleConflict (same priority and direction) is a 400 in ARM: retrying cannot fix it.
  if (code === "AnotherOperationInProgress" || code === "Conflict") return "Conflict";
  if (code === "PreconditionFailed") return "PreconditionFailed";
  if (/^(Invalid|SecurityRule|SecurityRules|BadRequest)/.test(code)) return "Invalid";
  if (code === "AuthorizationFailed" || code === "LinkedAuthorizationFailed") return "Unauthorized";
  return "Transient";
}

/** Is this response worth retrying inside the adapter (before the work queue sees it)? */
export function isRetryableStatus(status: number, code: string | undefined): boolean {
  if (status === 429 || status === 408) return true;
  if (status === 409) return code === "AnotherOperationInProgress";
  return status === 500 || status === 502 || status === 503 || status === 504;
}

/** The ARM error code of a CloudError body, if the text is one. */
export function armErrorCode(bodyText: string | undefined): string | undefined {
  if (bodyText === undefined || bodyText === "") return undefined;
  try {
    const body = JSON.parse(bodyText) as { error?: { code?: unknown }; code?: unknown };
    const code = body.error?.code ?? body.code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}

/** An ARM answer's JSON object; {} for an empty, unparsable or non-object body. */
export function jsonObjectOf(text: string | null | undefined): Record<string, unknown> {
  if (text === undefined || text === null || text === "") return {};
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The RestError the SDK would throw for an ARM answer it does not expect (ARM's error code and
 * message kept), for requests sent through a client's pipeline without the SDK's operation layer.
 */
export function restErrorOf(res: PipelineResponse): RestError {
  const doc = jsonObjectOf(res.bodyAsText);
  const err = (doc["error"] ?? {}) as { code?: unknown; message?: unknown };
  const message = typeof err.message === "string" ? err.message : `HTTP ${res.status}`;
  return new RestError(message, {
    ...(typeof err.code === "string" ? { code: err.code } : {}),
    statusCode: res.status,
    request: res.request,
    response: res,
  });
}

/**
 * A long-running operation that ended Failed or Canceled, as our own poller (rule-write.ts) saw it:
 * mapped like core-lro's "The long-running operation has failed" error below.
 */
export class OperationFailedError extends Error {
  override readonly name = "OperationFailedError";
  readonly armCode: string;
  readonly detail: string;

  constructor(armCode: string, detail: string) {
    super(`The long-running operation has failed. ${armCode}. ${detail}`);
    this.armCode = armCode;
    this.detail = detail;
  }
}

interface RestErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  statusCode?: unknown;
  response?: { headers?: HeaderSource; status?: unknown };
}

const LRO_FAILED = /^The long-running operation has failed\. ([^.]+)\. ([\s\S]*)$/;

/**
 * Turn anything the SDKs or the pipeline throw into an AzureError. `what` names the operation and
 * resource ("PUT securityRules drawbridge-x on /subscriptions/...") so the message stands alone.
 */
export function toAzureError(err: unknown, what: string, nowMs: number): AzureError {
  if (err instanceof AzureError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as RestErrorLike;
  const message = typeof e.message === "string" ? e.message : String(err);
  const failed = failedOperation(err, message);
  if (failed !== undefined) {
    const { code, detail } = failed;
    return new AzureError(kindForLroCode(code), `${what}: operation failed: ${code}: ${detail}`, {
      code,
      cause: err,
    });
  }
  const statusCode = typeof e.statusCode === "number" ? e.statusCode : undefined;
  const code = typeof e.code === "string" ? e.code : undefined;
  if (statusCode === undefined && isAbortName(e.name)) {
    // The adapter aborts a write whose polling outlives operationTimeoutMs.
    return new AzureError("Transient", `${what}: aborted before ARM finished: ${message}`, {
      code: "OperationAborted",
      cause: err,
    });
  }
  const status = statusCode === undefined ? "no response" : `HTTP ${statusCode}`;
  return new AzureError(
    kindForStatus(statusCode, code),
    `${what}: ${status}${code === undefined ? "" : ` ${code}`}: ${message}`,
    definedOnly({
      code,
      statusCode,
      retryAfterMs: parseRetryAfterMs(e.response?.headers, nowMs),
      cause: err,
    }),
  );
}

/** The ARM code and detail of a failed long-running operation: ours, or core-lro's message. */
function failedOperation(err: unknown, message: string): { code: string; detail: string } | undefined {
  if (err instanceof OperationFailedError) return { code: err.armCode, detail: err.detail };
  const lro = LRO_FAILED.exec(message);
  if (lro === null) return undefined;
  const [, code = "", detail = ""] = lro;
  return { code, detail };
}

function isAbortName(name: unknown): boolean {
  return name === "AbortError" || name === "TimeoutError";
}

/** Drop undefined fields (AzureError's options are optional, not `| undefined`). */
function definedOnly(o: {
  code: string | undefined;
  statusCode: number | undefined;
  retryAfterMs: number | undefined;
  cause: unknown;
}): { code?: string; statusCode?: number; retryAfterMs?: number; cause?: unknown } {
  const out: { code?: string; statusCode?: number; retryAfterMs?: number; cause?: unknown } = {
    cause: o.cause,
  };
  if (o.code !== undefined) out.code = o.code;
  if (o.statusCode !== undefined) out.statusCode = o.statusCode;
  if (o.retryAfterMs !== undefined) out.retryAfterMs = o.retryAfterMs;
  return out;
}
