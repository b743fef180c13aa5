// The API the commands use, over the caller's kubeconfig as kubectl reads it: --kubeconfig, else
// KUBECONFIG (colon-separated files), else ~/.kube/config; --context picks the context; -n, else the
// context's namespace, else "default".
import {
  AuthenticationV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { AccessApproval, AccessRequest, JitPolicy } from "../../api/types.ts";
import { whoami } from "./whoami.ts";
import type { Identity } from "./whoami.ts";
import {
  ACCESSAPPROVAL_PLURAL,
  ACCESSREQUEST_PLURAL,
  API_GROUP,
  API_VERSION,
  JITPOLICY_PLURAL,
} from "../../api/types.ts";

/** The CLI's writes show under its own name in managedFields, apart from the operator's. */
export const FIELD_MANAGER = "kubectl-drawbridge";

export interface AccessApi {
  namespace: string;
  whoami(): Promise<Identity>;
  listPolicies(): Promise<JitPolicy[]>;
  getPolicy(name: string): Promise<JitPolicy | undefined>;
  listRequests(): Promise<AccessRequest[]>;
  getRequest(name: string): Promise<AccessRequest | undefined>;
  createRequest(body: AccessRequest): Promise<AccessRequest>;
  revokeRequest(name: string): Promise<AccessRequest>;
  listApprovals(): Promise<AccessApproval[]>;
  createApproval(body: AccessApproval): Promise<AccessApproval>;
}

export interface ConnectOptions {
  kubeconfig: string | undefined;
  context: string | undefined;
  namespace: string | undefined;
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: number } | undefined)?.code === 404;
}

export function connect(o: ConnectOptions): AccessApi {
  const kc = new KubeConfig();
  if (o.kubeconfig !== undefined) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault();
  if (o.context !== undefined) {
    if (kc.getContextObject(o.context) === null)
      throw new Error(`context "${o.context}" is not in the kubeconfig`);
    kc.setCurrentContext(o.context);
  }
  const namespace = o.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  const custom = kc.makeApiClient(CustomObjectsApi);
  const auth = kc.makeApiClient(AuthenticationV1Api);
  const base = { group: API_GROUP, version: API_VERSION, namespace };
  const get = async <T>(plural: string, name: string): Promise<T | undefined> => {
    try {
      return (await custom.getNamespacedCustomObject({ ...base, plural, name })) as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const list = async <T>(plural: string): Promise<T[]> =>
    ((await custom.listNamespacedCustomObject({ ...base, plural })) as { items: T[] }).items;
  return {
    namespace,
    whoami: () => whoami(auth),
    listPolicies: () => list<JitPolicy>(JITPOLICY_PLURAL),
    getPolicy: (name) => get<JitPolicy>(JITPOLICY_PLURAL, name),
    listRequests: () => list<AccessRequest>(ACCESSREQUEST_PLURAL),
    getRequest: (name) => get<AccessRequest>(ACCESSREQUEST_PLURAL, name),
    createRequest: async (body) =>
      (await custom.createNamespacedCustomObject({
        ...base,
        plural: ACCESSREQUEST_PLURAL,
        body,
        fieldManager: FIELD_MANAGER,
      })) as AccessRequest,
    revokeRequest: async (name) =>
      (await custom.patchNamespacedCustomObject(
        {
          ...base,
          plural: ACCESSREQUEST_PLURAL,
          name,
          body: { spec: { revoked: true } },
          fieldManager: FIELD_MANAGER,
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      )) as AccessRequest,
    listApprovals: () => list<AccessApproval>(ACCESSAPPROVAL_PLURAL),
    createApproval: async (body) =>
      (await custom.createNamespacedCustomObject({
        ...base,
        plural: ACCESSAPPROVAL_PLURAL,
        body,
        fieldManager: FIELD_MANAGER,
      })) as AccessApproval,
  };
}

/** The API server's message from a client-node error (the Status body), else the error's own. */
export function apiErrorText(err: unknown): string {
  const body = (err as { body?: unknown } | undefined)?.body;
  if (typeof body === "string") {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (typeof status.message === "string") return status.message;
    } catch {
      return body;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
