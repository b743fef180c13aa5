// The active grants of the whole cache, kept incrementally: a request's grants are computed by the core
// once per change of that request (or of its policy), not once per reconcile. Recomputing everything
// on every change made a burst of N requests cost O(N^2) (and a start-up with 10,000 requests minutes
// of CPU). Per policy, the sorted grant list is kept as its requests change (see PolicyView): a
// change costs the changed request's grants, not the policy's; expired grants are never returned.
import type { AccessRequest, JitPolicy } from "../../api/types.ts";
import { policyKeyOf, requestGrants } from "../../core/index.ts";
import type { ApprovalVerifier } from "../../core/approval-signature.ts";
import type { Grant } from "../../core/types.ts";
import { isTerminal } from "../../core/phases.ts";
import type { PrefixUnion } from "../../core/prefix-union.ts";
import { compareGrantsInPlace, GrantSharing } from "./grant-compact.ts";
import { PolicyView } from "./policy-view.ts";

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

/**
 * A request's grants as the index holds them: the grant itself when it is the only one (most
 * requests open one port on one target), else an array of them (never empty). An array of one
 * costs 56 bytes more than its grant (bench/request-heap.ts).
 */
type Held = Grant | readonly Grant[];

function listOf(held: Held): readonly Grant[] {
  return isList(held) ? held : [held];
}

function isList(held: Held): held is readonly Grant[] {
  return Array.isArray(held);
}

function firstOf(held: Held): Grant | undefined {
  return isList(held) ? held[0] : held;
}

function anyUnexpired(held: Held, t: number): boolean {
  if (!isList(held)) return held.expiresAt.getTime() > t;
  for (const g of held) if (g.expiresAt.getTime() > t) return true;
  return false;
}

export class GrantIndex {
  readonly #src: GrantSources;
  /**
   * Request key -> its grants (all, expired or not; never empty). Their policy key is the
   * request's (requestGrants makes no grant of another policy), so it is not kept twice.
   */
  readonly #byRequest = new Map<string, Held>();
  /** Policy key -> keys of its requests that have grants. */
  readonly #members = new Map<string, Set<string>>();
  readonly #dirtyRequests = new Set<string>();
  readonly #views = new Map<string, PolicyView>();
  #count: { at: number; value: number } | undefined;
  /** One copy of each policy key, expiry and source for all the grants (grant-compact.ts). */
  readonly #sharing = new GrantSharing();

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

  /** Unexpired grants of one policy, sorted (the same array until they change: do not modify). */
  forPolicy(policyKey: string, now: Date): Grant[] {
    this.#refresh();
    return this.#view(policyKey).grants(now.getTime());
  }

  /**
   * What each allow rule of a policy carries at `now`: the union of its sources by ruleKey, and the
   * unexpired grants (neither to be kept or modified). For the source-union bound of a decision,
   * which then costs the same however many requests the policy holds.
   */
  rulesOf(
    policyKey: string,
    now: Date,
  ): {
    rules: ReadonlyMap<string, PrefixUnion>;
    grants: readonly Grant[];
    holds(requestKey: string): boolean;
  } {
    this.#refresh();
    const t = now.getTime();
    const view = this.#view(policyKey);
    const rules = view.rules(t);
    const holds = (requestKey: string): boolean => {
      const held = this.#byRequest.get(requestKey);
      if (held === undefined || firstOf(held)?.policyKey !== policyKey) return false;
      return anyUnexpired(held, t);
    };
    return { rules, grants: view.current(t), holds };
  }

  /** Unexpired grants of one request. */
  forRequest(key: string, now: Date): Grant[] {
    this.#refresh();
    const t = now.getTime();
    const held = this.#byRequest.get(key);
    return held === undefined ? [] : listOf(held).filter((g) => g.expiresAt.getTime() > t);
  }

  /** Requests holding at least one unexpired grant (a metric: recounted at most once a second). */
  activeRequests(now: Date): number {
    const t = now.getTime();
    if (this.#count !== undefined && t - this.#count.at < 1000) return this.#count.value;
    this.#refresh();
    let n = 0;
    for (const held of this.#byRequest.values()) if (anyUnexpired(held, t)) n++;
    this.#count = { at: t, value: n };
    return n;
  }

  /**
   * Index at most `max` of the changed requests now; true when none is left. After reset() every
   * request is changed, and the first read would index them all in one synchronous stretch (seconds
   * at 100,000 requests: a replica missed its shard Lease renewals so), so the controller indexes
   * them in slices between turns of the event loop before its queues read (Controller.start).
   */
  refreshSome(max: number): boolean {
    let n = 0;
    for (const key of this.#dirtyRequests) {
      if (n++ >= max) return false;
      this.#dirtyRequests.delete(key);
      this.#refreshOne(key);
    }
    return true;
  }

  #refresh(): void {
    if (this.#dirtyRequests.size === 0) return;
    for (const key of this.#dirtyRequests) this.#refreshOne(key);
    this.#dirtyRequests.clear();
  }

  #refreshOne(key: string): void {
    this.#drop(key);
    const r = this.#src.request(key);
    if (r === undefined) return;
    const policyKey = policyKeyOf(r);
    const made = grantsOfRequest(this.#src.policy(policyKey), r, this.#src.isAuthentic);
    if (made.length > 0)
      this.#file(key, policyKey, this.#sharing.compact(made, key, r.spec.sourceAddressPrefix));
  }

  /** Take a request's grants out of the index and its policy's view. */
  #drop(key: string): void {
    const old = this.#byRequest.get(key);
    const oldPolicy = old === undefined ? undefined : firstOf(old)?.policyKey;
    this.#byRequest.delete(key);
    if (old === undefined || oldPolicy === undefined) return;
    const set = this.#members.get(oldPolicy);
    set?.delete(key);
    this.#views.get(oldPolicy)?.remove(listOf(old));
    if (set?.size === 0) {
      this.#members.delete(oldPolicy);
      this.#views.delete(oldPolicy);
    }
  }

  /** Put a request's grants (not empty) into the index and its policy's view. */
  #file(key: string, policyKey: string, grants: readonly Grant[]): void {
    const only = grants.length === 1 ? grants[0] : undefined;
    this.#byRequest.set(key, only ?? grants);
    let set = this.#members.get(policyKey);
    if (set === undefined) this.#members.set(policyKey, (set = new Set()));
    set.add(key);
    this.#views.get(policyKey)?.add(grants);
  }

  /** The policy's view, built from its members when first asked for, then kept as they change. */
  #view(policyKey: string): PolicyView {
    let view = this.#views.get(policyKey);
    if (view === undefined) {
      const grants: Grant[] = [];
      for (const k of this.#members.get(policyKey) ?? []) {
        const held = this.#byRequest.get(k);
        if (held === undefined) continue;
        if (isList(held)) for (const g of held) grants.push(g);
        else grants.push(held);
      }
      view = new PolicyView(compareGrantsInPlace, grants);
      this.#views.set(policyKey, view);
    }
    return view;
  }
}
