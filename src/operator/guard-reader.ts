// Reads what decideGuard (guard.ts) needs from the API server: the ValidatingAdmissionPolicies and
// bindings labelled jit.drawbridge.dev/guard=requester, and the labels of the namespaces the
// operator serves. A read the operator is not allowed, or a resource the server does not serve,
// is a definite answer (the guard cannot be verified) with a message naming what is missing;
// anything else is reported as a failed read the caller may retry.
import type { KubeConfig } from "@kubernetes/client-node";
import { AdmissionregistrationV1Api, ApiException, CoreV1Api } from "@kubernetes/client-node";
import { ALLOW_UNGUARDED_FLAG, GUARD_LABEL_SELECTOR } from "./guard.ts";
import type { GuardBinding, GuardNamespace, GuardPolicy } from "./guard.ts";
import type { Logger } from "./runtime/logger.ts";

/** A Kubernetes error as logged: status code, Status reason and message; never the whole response. */
export interface KubeErrorSummary {
  code: number | undefined;
  reason: string | undefined;
  message: string;
}

export type GuardReadFailureKind = "forbidden" | "notServed" | "failed";

export type GuardRead =
  | { ok: true; policies: GuardPolicy[]; bindings: GuardBinding[] }
  | { ok: false; kind: GuardReadFailureKind; message: string; error: KubeErrorSummary };

export interface GuardReaderOptions {
  /** Label selector of the guard objects; default GUARD_LABEL_SELECTOR. */
  labelSelector?: string;
  /** Page size of the list calls. */
  pageSize?: number;
}

const MAX_MESSAGE = 300;
const GROUP = "admissionregistration.k8s.io";

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
  if (err instanceof Error)
    return { code: undefined, reason: undefined, message: clip(`${err.name}: ${err.message}`) };
  return { code: undefined, reason: undefined, message: clip(String(err)) };
}

function describe(e: KubeErrorSummary): string {
  const head = [e.code === undefined ? undefined : String(e.code), e.reason].filter((x) => x !== undefined);
  return head.length === 0 ? e.message : `${head.join(" ")}: ${e.message}`;
}

function failure(resource: string, e: KubeErrorSummary): Extract<GuardRead, { ok: false }> {
  if (e.code === 403) {
    return {
      ok: false,
      kind: "forbidden",
      error: e,
      message:
        `the operator may not list ${resource}.${GROUP} (${describe(e)}): grant its service account get, ` +
        `list and watch on validatingadmissionpolicies and validatingadmissionpolicybindings in ${GROUP} ` +
        `(the chart's operator ClusterRole does), or start the operator with ${ALLOW_UNGUARDED_FLAG}`,
    };
  }
  if (e.code === 404) {
    return {
      ok: false,
      kind: "notServed",
      error: e,
      message:
        `the API server does not serve ${GROUP}/v1 ${resource} (${describe(e)}): the requester admission ` +
        `policy needs Kubernetes 1.30 or later; or start the operator with ${ALLOW_UNGUARDED_FLAG}`,
    };
  }
  return {
    ok: false,
    kind: "failed",
    error: e,
    message: `could not list ${resource}.${GROUP}: ${describe(e)}`,
  };
}

type Page<T> = { items: T[]; metadata?: { _continue?: string } };

async function listAll<T>(list: (cont: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let cont: string | undefined;
  do {
    const page = await list(cont);
    out.push(...page.items);
    cont = page.metadata?._continue;
  } while (cont !== undefined && cont !== "");
  return out;
}

/** The labelled ValidatingAdmissionPolicies and bindings, or why they could not be read. */
export async function readGuardObjects(kc: KubeConfig, opts: GuardReaderOptions = {}): Promise<GuardRead> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const labelSelector = opts.labelSelector ?? GUARD_LABEL_SELECTOR;
  const limit = opts.pageSize ?? 100;
  let policies: GuardPolicy[];
  try {
    policies = await listAll((_continue) =>
      api.listValidatingAdmissionPolicy({ labelSelector, limit, _continue }),
    );
  } catch (err) {
    return failure("validatingadmissionpolicies", kubeErrorSummary(err));
  }
  try {
    const bindings = await listAll((_continue) =>
      api.listValidatingAdmissionPolicyBinding({ labelSelector, limit, _continue }),
    );
    return { ok: true, policies, bindings };
  } catch (err) {
    return failure("validatingadmissionpolicybindings", kubeErrorSummary(err));
  }
}

/**
 * The namespaces `names` with their labels, for the guard's namespaceSelector checks. When the
 * operator may not list namespaces, every namespace comes back with unknown labels (decideGuard then
 * counts only bindings without a namespaceSelector), and the error is logged.
 */
export async function readNamespaces(
  kc: KubeConfig,
  names: readonly string[],
  log: Logger,
  pageSize = 500,
): Promise<GuardNamespace[]> {
  if (names.length === 0) return [];
  const api = kc.makeApiClient(CoreV1Api);
  try {
    const all = await listAll((_continue) => api.listNamespace({ limit: pageSize, _continue }));
    const labels = new Map(all.map((n) => [n.metadata?.name ?? "", n.metadata?.labels ?? {}]));
    return names.map((name) => ({ name, labels: labels.get(name) }));
  } catch (err) {
    const e = kubeErrorSummary(err);
    log.warn(
      { code: e.code, reason: e.reason, error: e.message },
      "could not list namespaces: namespaceSelectors of the requester admission policy cannot be evaluated",
    );
    return names.map((name) => ({ name, labels: undefined }));
  }
}
