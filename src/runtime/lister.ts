// Paths and paged list functions for custom resources, so wiring an informer for a CRD is one call:
// createInformer({ ...customResourceSource(kc, { group, version, plural, namespace }), ... }).
import { CustomObjectsApi } from "@kubernetes/client-node";
import type { KubeConfig, KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import type { ListFn } from "./informer.ts";

export interface CustomResource {
  group: string;
  version: string;
  plural: string;
  /** Restrict to one namespace; undefined lists across all namespaces. */
  namespace?: string | undefined;
}

/** The REST collection path of a custom resource, e.g. /apis/g/v1/namespaces/ns/plural. */
export function customResourcePath(r: CustomResource): string {
  const ns = r.namespace === undefined ? "" : `/namespaces/${encodeURIComponent(r.namespace)}`;
  return `/apis/${r.group}/${r.version}${ns}/${r.plural}`;
}

/** A paged ListFn over CustomObjectsApi for `r`. */
export function customResourceListFn<T extends KubernetesObject>(
  kc: KubeConfig,
  r: CustomResource,
): ListFn<T> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return async ({ limit, continue: cont }) => {
    const common = { group: r.group, version: r.version, plural: r.plural, limit, _continue: cont };
    const body: unknown =
      r.namespace === undefined
        ? await api.listClusterCustomObject(common)
        : await api.listNamespacedCustomObject({ ...common, namespace: r.namespace });
    return body as KubernetesListObject<T>;
  };
}

/** path + listFn for createInformer. */
export function customResourceSource<T extends KubernetesObject>(
  kc: KubeConfig,
  r: CustomResource,
): { kubeConfig: KubeConfig; path: string; listFn: ListFn<T>; resource: string } {
  return {
    kubeConfig: kc,
    path: customResourcePath(r),
    listFn: customResourceListFn<T>(kc, r),
    resource: r.plural,
  };
}
