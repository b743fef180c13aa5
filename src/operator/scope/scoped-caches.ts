// The caches as the reconcilers act on them: every policy seen through the scope gate, so a target
// no JitScope covers is simply not there (no binding, no grant, no NSG write).
import type { Caches } from "../state/caches.ts";
import type { ScopeGate } from "./gate.ts";

export function scopedCaches(raw: Caches, gate: ScopeGate): Caches {
  return {
    policies: () => raw.policies().map((p) => gate.view(p)),
    requests: () => raw.requests(),
    policy: (key) => {
      const p = raw.policy(key);
      return p === undefined ? undefined : gate.view(p);
    },
    request: (key) => raw.request(key),
    renewalsOf: (namespace, name) => raw.renewalsOf(namespace, name),
    requestsOf: (policyKey) => raw.requestsOf(policyKey),
    openAhead: (request, inFlight) => raw.openAhead(request, inFlight),
  };
}
