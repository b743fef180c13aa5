// Keys of namespaced objects, "namespace/name" (an absent namespace is "", so "/name"): the work
// queues, the grant and binding indexes and the core's Grants all key requests and policies so.
// The informer's cache keys cluster-scoped objects by name alone; that is its own cacheKey.

export function objectKey(meta: { namespace?: string; name?: string }): string {
  return `${meta.namespace ?? ""}/${meta.name ?? ""}`;
}

/** The key of the JitPolicy a request names: its policy lives in the request's namespace. */
export function policyKeyOf(request: {
  metadata: { namespace?: string };
  spec: { policyName: string };
}): string {
  return `${request.metadata.namespace ?? ""}/${request.spec.policyName}`;
}
