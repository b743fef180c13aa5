// The live cluster state `drawbridge plan` compares against: JitPolicies, AccessRequests, JitScopes
// and namespaces (for the scopes' label selectors). Read-only list calls.
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import type { AccessRequest, JitPolicy, JitScope } from "../../api/types.ts";
import {
  ACCESSREQUEST_PLURAL,
  API_GROUP,
  API_VERSION,
  JITPOLICY_PLURAL,
  JITSCOPE_PLURAL,
} from "../../api/types.ts";
import type { LiveState } from "./compute.ts";

async function list<T>(api: CustomObjectsApi, plural: string): Promise<T[]> {
  const out = (await api.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural })) as {
    items?: T[];
  };
  return out.items ?? [];
}

export async function readLiveState(kubeconfig: string | undefined): Promise<LiveState> {
  const kc = new KubeConfig();
  if (kubeconfig === undefined) kc.loadFromDefault();
  else kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const [policies, requests, scopes, namespaces] = await Promise.all([
    list<JitPolicy>(api, JITPOLICY_PLURAL),
    list<AccessRequest>(api, ACCESSREQUEST_PLURAL),
    list<JitScope>(api, JITSCOPE_PLURAL),
    core.listNamespace(),
  ]);
  return {
    policies,
    requests,
    scopes,
    namespaces: namespaces.items.map((n) => ({
      name: n.metadata?.name ?? "",
      labels: n.metadata?.labels ?? {},
    })),
  };
}
