// Keys of namespaced objects, "namespace/name" (an absent namespace is "", so "/name"): the work
// queues, the grant and binding indexes and the core's Grants all key requests and policies so.
// The informer's cache keys cluster-scoped objects by name alone; that is its own cacheKey.

/**
 * Joined, not concatenated: V8 keeps a concatenation as a pair of pieces (64 bytes for a request's
 * key), a join as one flat string (40); the indexes hold such a key per request.
 */
export function objectKey(meta: { namespace?: string; name?: string }): string {
  return [meta.namespace ?? "", meta.name ?? ""].join("/");
}

/** The key of the JitPolicy a request names: its policy lives in the request's namespace. */
export function policyKeyOf(request: {
  metadata: { namespace?: string };
  spec: { policyName: string };
}): string {
  return [request.metadata.namespace ?? "", request.spec.policyName].join("/");
}
