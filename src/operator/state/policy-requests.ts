// Which cached requests name which policy (spec.policyName), kept from the request informer's events.
// Every policy event marked its requests for the grant index by a scan of the whole request cache: at
// 100,000 requests and 200 policies, the status writes of one start-up (each policy's, seen by every
// replica) cost seconds of CPU in a row, and a replica sharing 2 cores with three others went 14 s
// without renewing its shard Leases.
import type { AccessRequest } from "../../api/types.ts";
import { objectKey, policyKeyOf } from "../../core/keys.ts";

/** The key policyKeyOf gives, or none for a request without spec.policyName. */
function filedUnder(r: AccessRequest): string | undefined {
  // Informer objects are JSON from the API server: a spec-less object must not throw in a handler.
  const spec = r.spec as AccessRequest["spec"] | undefined;
  return typeof spec?.policyName === "string" ? policyKeyOf(r) : undefined;
}

export class PolicyRequestIndex {
  /** "namespace/policy" -> keys of the requests naming it */
  readonly #byPolicy = new Map<string, Set<string>>();
  /** request key (objectKey) -> the "namespace/policy" it is filed under */
  readonly #filed = new Map<string, string>();

  /** Record a request as it is now (or its deletion). */
  update(r: AccessRequest, deleted: boolean): void {
    const key = objectKey(r.metadata);
    const before = this.#filed.get(key);
    const after = deleted ? undefined : filedUnder(r);
    if (before === after) return;
    if (before !== undefined) {
      const set = this.#byPolicy.get(before);
      set?.delete(key);
      if (set?.size === 0) this.#byPolicy.delete(before);
      this.#filed.delete(key);
    }
    if (after === undefined) return;
    let set = this.#byPolicy.get(after);
    if (set === undefined) this.#byPolicy.set(after, (set = new Set()));
    set.add(key);
    this.#filed.set(key, after);
  }

  /** Keys (objectKey) of the cached requests of `policyKey` (policyKeyOf: "namespace/name"). */
  requestsOf(policyKey: string): string[] {
    return [...(this.#byPolicy.get(policyKey) ?? [])];
  }

  get size(): number {
    return this.#filed.size;
  }
}
