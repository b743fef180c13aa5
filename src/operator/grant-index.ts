// The active grants of the whole cache, computed by the core once per change instead of once per NSG
// reconcile (a resync plans thousands of NSGs against the same grant set). It is recomputed when an
// informer reports a change (invalidate) or when the clock passes the earliest expiry.
import type { AccessRequest, JitPolicy } from "../api/types.ts";
import { activeGrants } from "../core/index.ts";
import type { Grant } from "../core/types.ts";
import { isTerminal } from "./request-decision.ts";

export interface GrantSnapshot {
  byPolicy: Map<string, Grant[]>;
  byRequest: Map<string, Grant[]>;
  nextExpiry: Date | undefined;
  total: number;
}

/** Requests that may hold a grant at all: approved, live, not revoked, not being deleted. */
export function grantCandidates(requests: readonly AccessRequest[]): AccessRequest[] {
  return requests.filter(
    (r) =>
      r.metadata.deletionTimestamp === undefined &&
      r.spec.revoked !== true &&
      r.status?.startTime !== undefined &&
      r.status.expiresAt !== undefined &&
      !isTerminal(r.status.phase),
  );
}

export class GrantIndex {
  readonly #policies: () => JitPolicy[];
  readonly #requests: () => AccessRequest[];
  #snapshot: GrantSnapshot | undefined;

  constructor(policies: () => JitPolicy[], requests: () => AccessRequest[]) {
    this.#policies = policies;
    this.#requests = requests;
  }

  invalidate(): void {
    this.#snapshot = undefined;
  }

  current(now: Date): GrantSnapshot {
    const s = this.#snapshot;
    if (s !== undefined && (s.nextExpiry === undefined || now < s.nextExpiry)) return s;
    const policies = this.#policies().filter((p) => p.metadata.deletionTimestamp === undefined);
    const result = activeGrants(policies, grantCandidates(this.#requests()), now);
    const byPolicy = new Map<string, Grant[]>();
    const byRequest = new Map<string, Grant[]>();
    for (const g of result.grants) {
      push(byPolicy, g.policyKey, g);
      push(byRequest, g.requestKey, g);
    }
    this.#snapshot = { byPolicy, byRequest, nextExpiry: result.nextExpiry, total: result.grants.length };
    return this.#snapshot;
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}
