// The active grants of the whole cache, kept incrementally: a request's grants are computed by the core
// once per change of that request (or of its policy), not once per reconcile. Recomputing everything
// on every change made a burst of N requests cost O(N^2) (and a start-up with 10,000 requests minutes
// of CPU). Per policy, the sorted grant list is rebuilt only when one of its requests changed or when
// the clock passes its earliest expiry; expired grants are filtered out at read time.
import type { AccessRequest, JitPolicy } from "../../api/types.ts";
import { policyKeyOf, requestGrants } from "../../core/index.ts";
import type { ApprovalVerifier } from "../../core/approval-signature.ts";
import type { Grant } from "../../core/types.ts";
import { isTerminal } from "../../core/phases.ts";
import { Interner } from "../../runtime/intern.ts";
import { compareGrantsInPlace, shareGrantKeys } from "./grant-compact.ts";

/** Requests that may hold a grant at all: approved, live, not revoked, not being deleted. */
export function isGrantCandidate(r: AccessRequest): boolean {
  return (
    r.metadata.deletionTimestamp === undefined &&
    r.spec.revoked !== true &&
    r.status?.startTime !== undefined &&
    r.status.expiresAt !== undefined &&
    !isTerminal(r.status.phase)
  );
}

export interface GrantSources {
  policy(key: string): JitPolicy | undefined;
  request(key: string): AccessRequest | undefined;
  /** Keys of every cached request of a policy (used when the policy changes). */
  requestsOf(policyKey: string): string[];
  /** Whether a request's approval is the operator's own (its signature verifies); see ADR 0012. */
  isAuthentic: ApprovalVerifier;
}

interface PolicyView {
  /** Unexpired grants at the time of the build, sorted with compareGrants. */
  grants: Grant[];
  /** Earliest expiry among them; the view is rebuilt once the clock reaches it. */
  nextExpiry: number;
}

/** Every time-independent grant of one request (the time filter is applied when reading). */
function grantsOfRequest(
  policy: JitPolicy | undefined,
  r: AccessRequest | undefined,
  isAuthentic: ApprovalVerifier,
): Grant[] {
  if (r === undefined || policy === undefined || policy.metadata.deletionTimestamp !== undefined) return [];
  if (!isGrantCandidate(r)) return [];
  return requestGrants(r, policy, isAuthentic);
}

export class GrantIndex {
  readonly #src: GrantSources;
  /** Request key -> its grants (all, expired or not) and policy key. */
  readonly #byRequest = new Map<string, { policyKey: string; grants: Grant[] }>();
  /** Policy key -> keys of its requests that have grants. */
  readonly #members = new Map<string, Set<string>>();
  readonly #dirtyRequests = new Set<string>();
  readonly #views = new Map<string, PolicyView>();
  #count: { at: number; value: number } | undefined;
  /** One copy of each policy key for all the grants (grant-compact.ts). */
  readonly #policyKeys = new Interner({ maxEntries: 10_000 });

  constructor(src: GrantSources) {
    this.#src = src;
  }

  /** Forget everything and take every listed request as changed (start of leadership). */
  reset(requestKeys: Iterable<string>): void {
    this.#byRequest.clear();
    this.#members.clear();
    this.#views.clear();
    this.#dirtyRequests.clear();
    this.#count = undefined;
    for (const k of requestKeys) this.#dirtyRequests.add(k);
  }

  /** A request changed (or was deleted). */
  invalidateRequest(key: string): void {
    this.#dirtyRequests.add(key);
  }

  /** A policy changed (or was deleted): every request of it is looked at again. */
  invalidatePolicy(policyKey: string): void {
    for (const k of this.#src.requestsOf(policyKey)) this.#dirtyRequests.add(k);
    for (const k of this.#members.get(policyKey) ?? []) this.#dirtyRequests.add(k);
  }

  /** Unexpired grants of one policy, sorted. */
  forPolicy(policyKey: string, now: Date): Grant[] {
    this.#refresh();
    const t = now.getTime();
    let view = this.#views.get(policyKey);
    if (view === undefined || t >= view.nextExpiry) {
      view = this.#build(policyKey, t);
      this.#views.set(policyKey, view);
    }
    return view.grants;
  }

  /** Unexpired grants of one request. */
  forRequest(key: string, now: Date): Grant[] {
    this.#refresh();
    const t = now.getTime();
    return (this.#byRequest.get(key)?.grants ?? []).filter((g) => g.expiresAt.getTime() > t);
  }

  /** Requests holding at least one unexpired grant (a metric: recounted at most once a second). */
  activeRequests(now: Date): number {
    const t = now.getTime();
    if (this.#count !== undefined && t - this.#count.at < 1000) return this.#count.value;
    this.#refresh();
    let n = 0;
    for (const e of this.#byRequest.values()) if (e.grants.some((g) => g.expiresAt.getTime() > t)) n++;
    this.#count = { at: t, value: n };
    return n;
  }

  #refresh(): void {
    if (this.#dirtyRequests.size === 0) return;
    for (const key of this.#dirtyRequests) {
      const old = this.#byRequest.get(key);
      const r = this.#src.request(key);
      const policyKey = r === undefined ? undefined : policyKeyOf(r);
      const grants =
        policyKey === undefined ? [] : grantsOfRequest(this.#src.policy(policyKey), r, this.#src.isAuthentic);
      if (old !== undefined) {
        this.#members.get(old.policyKey)?.delete(key);
        this.#views.delete(old.policyKey);
        this.#byRequest.delete(key);
      }
      if (policyKey !== undefined && grants.length > 0) {
        shareGrantKeys(grants, key, this.#policyKeys);
        this.#byRequest.set(key, { policyKey: this.#policyKeys.intern(policyKey), grants });
        let set = this.#members.get(policyKey);
        if (set === undefined) this.#members.set(policyKey, (set = new Set()));
        set.add(key);
        this.#views.delete(policyKey);
      }
    }
    this.#dirtyRequests.clear();
  }

  #build(policyKey: string, t: number): PolicyView {
    const grants: Grant[] = [];
    let next = Infinity;
    for (const k of this.#members.get(policyKey) ?? []) {
      for (const g of this.#byRequest.get(k)?.grants ?? []) {
        const e = g.expiresAt.getTime();
        if (e <= t) continue;
        grants.push(g);
        if (e < next) next = e;
      }
    }
    grants.sort(compareGrantsInPlace);
    return { grants, nextExpiry: next };
  }
}
