// path + paged listFn of core/v1 Namespaces for createInformer: the operator reads namespace labels,
// since a JitScope may bind namespaces by label selector.
import { CoreV1Api } from "@kubernetes/client-node";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { ListFn } from "../runtime/informer.ts";

export function namespaceSource(kc: KubeConfig): {
  kubeConfig: KubeConfig;
  path: string;
  listFn: ListFn<KubernetesObject>;
  resource: string;
} {
  const core = kc.makeApiClient(CoreV1Api);
  const listFn: ListFn<KubernetesObject> = async ({ limit, continue: cont }) =>
    core.listNamespace({ limit, _continue: cont });
  return { kubeConfig: kc, path: "/api/v1/namespaces", listFn, resource: "namespaces" };
}
