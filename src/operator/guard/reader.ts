// Reads what decideGuard (guard.ts) needs from the API server: the ValidatingAdmissionPolicies and
// bindings labelled jit.drawbridge.dev/guard=requester, and the labels of the namespaces the
// operator serves. A read the operator is not allowed, or a resource the server does not serve,
// is a definite answer (the guard cannot be verified) with a message naming what is missing;
// anything else is reported as a failed read the caller may retry.
import type { KubeConfig } from "@kubernetes/client-node";
import { AdmissionregistrationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { ALLOW_UNGUARDED_FLAG, GUARD_LABEL_SELECTOR } from "./guard.ts";
import type { GuardBinding, GuardNamespace, GuardPolicy } from "./guard.ts";
import { describeKubeError as describe, kubeErrorSummary } from "../../runtime/kube-errors.ts";
import type { KubeErrorSummary } from "../../runtime/kube-errors.ts";
import type { Logger } from "../../runtime/logger.ts";

// Re-exported: callers of the guard reader already import them from here.
export { kubeErrorSummary };
export type { KubeErrorSummary };

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

const GROUP = "admissionregistration.k8s.io";

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
