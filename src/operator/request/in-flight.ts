// Approvals this operator decided whose status write has not been acknowledged yet, by request key.
// The decision is the operator's own and signed (ADR 0012), so the NSG keys plan with it while the
// write is in flight (ADR 0016): the grant index reads requests through overlay(), and the NSGs are
// woken at the decision instead of after the finalizer and approval writes. An approval that does
// not land (refused, conflict, request gone) ends here, and its NSGs are planned again without it;
// one that lands is in the cache by the time it ends, so the grant stays. Nothing here survives a
// restart: the first resync then plans every NSG from what the API server holds.
import type { AccessRequest, AccessRequestStatus } from "../../api/types.ts";
import { objectKey } from "../../core/keys.ts";
import type { Grant } from "../../core/index.ts";

interface InFlight {
  uid: string | undefined;
  /** Whether the NSGs plan with it (see begin). */
  early: boolean;
  status: AccessRequestStatus;
  grants: Grant[];
}

export class ApprovalsInFlight {
  readonly #byKey = new Map<string, InFlight>();
  readonly #changed: (key: string) => void;

  /** `changed(key)` runs after a request's approval began or ended (the grant index re-reads it). */
  constructor(changed: (key: string) => void = () => undefined) {
    this.#changed = changed;
  }

  /**
   * `early`: the NSGs plan with the approval before it lands. Without it the approval only counts
   * towards the source-union bound and the open count (its NSGs wait for the write, as before).
   */
  begin(
    key: string,
    request: AccessRequest,
    status: AccessRequestStatus,
    grants: Grant[],
    early: boolean,
  ): void {
    this.#byKey.set(key, { uid: request.metadata.uid, early, status, grants });
    if (early) this.#changed(key);
  }

  end(key: string): void {
    const a = this.#byKey.get(key);
    if (a === undefined) return;
    this.#byKey.delete(key);
    if (a.early) this.#changed(key);
  }

  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** Whether the NSGs plan with this request's approval in flight. */
  early(key: string): boolean {
    return this.#byKey.get(key)?.early === true;
  }

  /** The keys of the requests whose approval is in flight. */
  keys(): Iterable<string> {
    return this.#byKey.keys();
  }

  /** The grants of each approval in flight, one list per request (all of one policy). */
  approvals(): Iterable<readonly Grant[]> {
    return [...this.#byKey.values()].map((a) => a.grants);
  }

  /**
   * The request as its approval in flight makes it, early or not (same uid, no approval of its own
   * cached yet): for checks that must see every decided approval before it lands, such as a renewal
   * looking for a rival renewal of the same grant.
   */
  decided(request: AccessRequest): AccessRequest {
    const a = this.#byKey.get(objectKey(request.metadata));
    if (a === undefined || a.uid !== request.metadata.uid || request.status?.startTime !== undefined)
      return request;
    return { ...request, status: a.status };
  }

  /**
   * The cached request as the approval in flight would make it. Only over the very object decided
   * (same uid: a deleted and re-created namesake is not it) and only while the cache holds no
   * approval of its own; the cached metadata and spec stay, so a deletion or a revocation that
   * arrives meanwhile still ends the grant.
   */
  overlay(request: AccessRequest | undefined): AccessRequest | undefined {
    if (request === undefined) return undefined;
    const a = this.#byKey.get(objectKey(request.metadata));
    if (a?.early !== true || a.uid !== request.metadata.uid || request.status?.startTime !== undefined)
      return request;
    return { ...request, status: a.status };
  }
}
