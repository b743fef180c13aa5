// Which cached requests renew which (spec.supersedes), kept from the request informer's events.
// The renewal checks of every Active request used to scan (and copy) the whole request cache, so
// one pass over N requests cost O(N^2): minutes of CPU at 10,000 requests, hours at 100,000.
import type { AccessRequest } from "../../api/types.ts";
import { cacheKey } from "../../runtime/informer.ts";

function olderKeyOf(r: AccessRequest): string | undefined {
  // Informer objects are JSON from the API server: a spec-less object must not throw in a handler.
  const spec = r.spec as AccessRequest["spec"] | undefined;
  const older = spec?.supersedes;
  return older === undefined ? undefined : cacheKey(r.metadata.namespace, older);
}

export class RenewalIndex {
  /** "namespace/older" -> keys of the requests naming it in spec.supersedes */
  readonly #byOlder = new Map<string, Set<string>>();
  /** renewal key -> the "namespace/older" it is filed under */
  readonly #filed = new Map<string, string>();

  /** Record a request as it is now (or its deletion). */
  update(r: AccessRequest, deleted: boolean): void {
    const key = cacheKey(r.metadata.namespace, r.metadata.name ?? "");
    const before = this.#filed.get(key);
    const after = deleted ? undefined : olderKeyOf(r);
    if (before === after) return;
    if (before !== undefined) {
      const set = this.#byOlder.get(before);
      set?.delete(key);
      if (set?.size === 0) this.#byOlder.delete(before);
      this.#filed.delete(key);
    }
    if (after === undefined) return;
    let set = this.#byOlder.get(after);
    if (set === undefined) this.#byOlder.set(after, (set = new Set()));
    set.add(key);
    this.#filed.set(key, after);
  }

  /** Keys of the requests whose spec.supersedes names `namespace/name`. */
  renewalsOf(namespace: string | undefined, name: string): string[] {
    return [...(this.#byOlder.get(cacheKey(namespace, name)) ?? [])];
  }

  get size(): number {
    return this.#filed.size;
  }
}
