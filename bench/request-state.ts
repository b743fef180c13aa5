// The operator's own per-request state, built from cached requests and policies the way the
// controller builds it, one step at a time so each step's heap can be measured (bench/request-heap.ts):
// the informer's cache keys, the renewal and open-request indexes, the grant index (grants, policy
// views, sort keys, the source unions of each allow rule) and the NSG ledger's placements of a
// converged estate.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { AccessRequest, JitPolicy } from "../src/api/types.ts";
import { objectKey, planNsg } from "../src/core/index.ts";
import type { Grant, PolicyBinding } from "../src/core/index.ts";
import { placementsOf } from "../src/operator/nsg/placements.ts";
import { GrantIndex } from "../src/operator/state/grant-index.ts";
import type { NsgRecord } from "../src/operator/state/ledger.ts";
import { Ledger } from "../src/operator/state/ledger.ts";
import { nsgKey } from "../src/operator/state/keys.ts";
import { policyBindings } from "../src/operator/state/bindings.ts";
import { OpenRequestIndex } from "../src/operator/state/open-index.ts";
import { RenewalIndex } from "../src/operator/state/renewal-index.ts";
import { ObjectStore } from "../src/runtime/object-store.ts";
import { splitKey } from "../src/operator/state/keys.ts";
import { foreignRules } from "./estate.ts";

export interface StateStep {
  step: string;
  bytes: number;
}

/** Held until the process exits, so nothing measured is collected before the last step. */
const kept: unknown[] = [];

/** The ledger record of one converged NSG: its placements per request key (placementsOf). */
function recordOf(seq: number, nsgId: string, bindings: PolicyBinding[], grants: Grant[]): NsgRecord {
  const plan = planNsg({ nsg: { id: nsgId, securityRules: foreignRules() }, bindings, grants });
  return {
    seq,
    ...placementsOf(nsgId, { plan, refused: new Map(), writes: 0 }),
    rejected: new Map(),
    failed: new Map(),
    conflicts: plan.conflicts,
    shadowed: plan.shadowed,
    error: undefined,
    lastWriteAt: undefined,
    policiesWithRules: new Set(bindings.map((b) => b.policyKey)),
    basis: { etag: `W/"${String(seq)}"`, inputs: [...bindings] },
  };
}

/** Builds the state step by step; `heapUsed` collects garbage first. */
export function operatorState(
  requests: AccessRequest[],
  policies: JitPolicy[],
  heapUsed: () => number,
): StateStep[] {
  const steps: StateStep[] = [];
  let mark = heapUsed();
  const step = (name: string, value: unknown): void => {
    kept.push(value);
    const now = heapUsed();
    steps.push({ step: name, bytes: now - mark });
    mark = now;
  };
  const cache = new ObjectStore<KubernetesObject>();
  for (const r of requests) cache.set(r as unknown as KubernetesObject);
  step("informer_cache_keys", cache);
  const renewals = new RenewalIndex();
  for (const r of requests) renewals.update(r, false);
  step("renewal_index", renewals);
  const open = new OpenRequestIndex();
  for (const r of requests) open.update(r, false);
  step("open_index", open);
  const policyByKey = new Map(policies.map((p) => [objectKey(p.metadata), p]));
  const index = new GrantIndex({
    policy: (k) => policyByKey.get(k),
    request: (k) => {
      const { namespace, name } = splitKey(k);
      return cache.get(namespace, name) as unknown as AccessRequest | undefined;
    },
    requestsOf: (pk) =>
      requests
        .filter((r) => `${r.metadata.namespace ?? ""}/${r.spec.policyName}` === pk)
        .map((r) => objectKey(r.metadata)),
    isAuthentic: () => true,
  });
  index.reset(requests.map((r) => objectKey(r.metadata)));
  index.activeRequests(new Date());
  step("grant_index_grants", index);
  const now = new Date();
  const views = [...policyByKey.keys()].map((k) => index.forPolicy(k, now));
  step("grant_index_views_and_sort_keys", views);
  const unions = [...policyByKey.keys()].map((k) => index.rulesOf(k, now).rules);
  step("source_unions", unions);
  const ledger = new Ledger();
  for (const p of policies) {
    const grants = index.forPolicy(objectKey(p.metadata), now);
    for (const b of policyBindings(p, true)) {
      const own = grants.filter((g) => g.targetId === b.nsgId);
      ledger.record(nsgKey(b.nsgId), recordOf(ledger.nextSeq(), b.nsgId, [b.binding], own));
    }
  }
  step("ledger_placements", ledger);
  return steps;
}
