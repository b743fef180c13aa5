// How Kubernetes errors are logged: status code, Status reason and message, never the whole error.
// The client's ApiException carries every response header in its message and a stack besides; a
// warn line that repeats it on every retry buries the one fact that matters (403 Forbidden: ...).
import { ApiException } from "@kubernetes/client-node";

/** A Kubernetes error as logged: status code, Status reason and message; never the whole response. */
export interface KubeErrorSummary {
  code: number | undefined;
  reason: string | undefined;
  message: string;
}

/** Log fields of a failed call: `log.warn({ ...kubeErrorFields(err) }, "...")`. */
export interface KubeErrorFields {
  code?: number;
  reason?: string;
  error: string;
}

const MAX_MESSAGE = 300;

function clip(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}...` : s;
}

function statusFromBody(body: unknown): { reason?: unknown; message?: unknown } | undefined {
  if (typeof body === "object" && body !== null) return body;
  if (typeof body !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return { message: body };
  }
}

/** A numeric status a non-ApiException error carries (the watch's `statusCode`, a Status `code`). */
function numericCode(err: object): number | undefined {
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === "number") return e.statusCode;
  return typeof e.code === "number" ? e.code : undefined;
}

/** "fetch failed" says nothing; its cause ("ECONNREFUSED 127.0.0.1:6443") says why. */
function causeOf(err: Error): string {
  const cause: unknown = err.cause;
  if (typeof cause !== "object" || cause === null) return "";
  const c = cause as { code?: unknown; message?: unknown };
  const text = typeof c.message === "string" && c.message !== "" ? c.message : c.code;
  return typeof text === "string" ? ` (${text})` : "";
}

/** code + reason + message of a failed API call (the client's own error text holds every header). */
export function kubeErrorSummary(err: unknown): KubeErrorSummary {
  if (err instanceof ApiException) {
    const status = statusFromBody(err.body);
    // Without a Status body (e.g. 401) the only text is the client's "Message: ..." line.
    const fallback = /\nMessage: ([^\n]*)/.exec(err.message)?.[1] ?? "";
    return {
      code: err.code,
      reason: typeof status?.reason === "string" ? status.reason : undefined,
      message: clip(typeof status?.message === "string" ? status.message : fallback),
    };
  }
  if (err instanceof Error) {
    return {
      code: numericCode(err),
      reason: undefined,
      message: clip(`${err.name}: ${err.message}${causeOf(err)}`),
    };
  }
  if (typeof err === "object" && err !== null) {
    // A Status object, e.g. a watch ERROR event.
    const s = err as { reason?: unknown; message?: unknown };
    return {
      code: numericCode(err),
      reason: typeof s.reason === "string" ? s.reason : undefined,
      message: clip(typeof s.message === "string" ? s.message : JSON.stringify(err)),
    };
  }
  return { code: undefined, reason: undefined, message: clip(String(err)) };
}

/** "403 Forbidden: message", or just the message when there is no code or reason. */
export function describeKubeError(e: KubeErrorSummary): string {
  const head = [e.code === undefined ? undefined : String(e.code), e.reason].filter((x) => x !== undefined);
  return head.length === 0 ? e.message : `${head.join(" ")}: ${e.message}`;
}

/** The fields a log line carries for a failed call. */
export function kubeErrorFields(err: unknown): KubeErrorFields {
  const e = kubeErrorSummary(err);
  return {
    ...(e.code === undefined ? {} : { code: e.code }),
    ...(e.reason === undefined ? {} : { reason: e.reason }),
    error: e.message,
  };
}

/**
 * Tells a retry loop whether an error is news: the first failure, and each change of code, reason
 * or message, are; the same error again is not (log it at debug). reset() after a success returns
 * how many failures there were in a row.
 */
export class RepeatedError {
  #last: string | undefined;
  #failures = 0;

  /** True when `e` differs from the previous failure (or is the first since a success). */
  isNew(e: KubeErrorSummary): boolean {
    this.#failures++;
    const key = `${String(e.code)}\u0000${String(e.reason)}\u0000${e.message}`;
    const fresh = key !== this.#last;
    this.#last = key;
    return fresh;
  }

  /** Failures in a row so far. */
  get failures(): number {
    return this.#failures;
  }

  /** After a success: forget the last error; returns the number of failures it ends. */
  reset(): number {
    const n = this.#failures;
    this.#last = undefined;
    this.#failures = 0;
    return n;
  }
}
