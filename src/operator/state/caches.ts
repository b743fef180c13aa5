// Typed read access to the informer caches. Objects come from the API server as plain JSON, so the
// drawbridge types describe them exactly (timestamps are strings).
import type { KubernetesObject } from "@kubernetes/client-node";
import type { AccessRequest, JitPolicy } from "../../api/types.ts";
import type { Informer } from "../../runtime/informer.ts";
import { splitKey } from "./keys.ts";
import { followRequests } from "./follow-requests.ts";
import { RenewalIndex } from "./renewal-index.ts";
import { OpenRequestIndex } from "./open-index.ts";
import { PolicyRequestIndex } from "./policy-requests.ts";
import type { OpenCounts } from "./open-index.ts";

export interface Caches {
  policies(): JitPolicy[];
  requests(): AccessRequest[];
  policy(key: string): JitPolicy | undefined;
  request(key: string): AccessRequest | undefined;
  /** The cached requests whose spec.supersedes names `namespace/name` (indexed, not scanned). */
  renewalsOf(namespace: string | undefined, name: string): AccessRequest[];
  /** Keys of the cached requests of a policy (policyKeyOf), indexed, not scanned. */
  requestsOf(policyKey: string): string[];
  /**
   * countOpenAhead(request, requests(), o => inFlight holds o's key), from an index kept from the
   * informer's events (not a scan of the cache).
   */
  openAhead(request: AccessRequest, inFlight: Iterable<string>): OpenCounts;
}

export function informerCaches(
  policies: Informer<KubernetesObject>,
  requests: Informer<KubernetesObject>,
): Caches {
  const renewals = followRequests(requests, new RenewalIndex());
  const open = followRequests(requests, new OpenRequestIndex());
  const byPolicy = followRequests(requests, new PolicyRequestIndex());
  const request = (key: string): AccessRequest | undefined => {
    const { namespace, name } = splitKey(key);
    return requests.get(namespace, name) as unknown as AccessRequest | undefined;
  };
  return {
    policies: () => policies.list() as unknown as JitPolicy[],
    requests: () => requests.list() as unknown as AccessRequest[],
    policy: (key) => {
      const { namespace, name } = splitKey(key);
      return policies.get(namespace, name) as unknown as JitPolicy | undefined;
    },
    request,
    renewalsOf: (namespace, name) => renewals.renewalsOf(namespace, name).flatMap((k) => request(k) ?? []),
    requestsOf: (policyKey) => byPolicy.requestsOf(policyKey),
    openAhead: (r, inFlight) => open.openAhead(r, inFlight),
  };
}
