// Indexes of the request cache kept from the request informer's events instead of scans of it.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { AccessRequest } from "../../api/types.ts";
import type { Informer } from "../../runtime/informer.ts";

export interface RequestIndex {
  update(r: AccessRequest, deleted: boolean): void;
}

/** `index` fed what the informer holds now, then every add, update and delete. */
export function followRequests<T extends RequestIndex>(requests: Informer<KubernetesObject>, index: T): T {
  const as = (o: KubernetesObject): AccessRequest => o as unknown as AccessRequest;
  requests.on("add", (o) => {
    index.update(as(o), false);
  });
  requests.on("update", (o) => {
    index.update(as(o), false);
  });
  requests.on("delete", (o) => {
    index.update(as(o), true);
  });
  for (const o of requests.list()) index.update(as(o), false);
  return index;
}
