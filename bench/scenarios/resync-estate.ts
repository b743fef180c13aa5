// The converged estate of the resync scenario: P policies over N NSG targets, G approved and
// unexpired requests (each on one NSG), and each NSG's rules exactly as the core planner wants them,
// so a correct operator finds nothing to write. Built with the same functions the operator uses
// (policyBindings, activeGrants, planNsg).
import type { AccessRequest, AccessRequestStatus, GrantRuleStatus, JitPolicy } from "../../src/api/types.ts";
import { FINALIZER } from "../../src/api/types.ts";
import { activeGrants, planNsg } from "../../src/core/index.ts";
import type { Grant, PolicyBinding } from "../../src/core/index.ts";
import { policyBindings } from "../../src/operator/state/bindings.ts";
import { setCondition } from "../../src/kube/conditions.ts";
import { withRequestKstatus } from "../../src/kube/kstatus-conditions.ts";
import {
  foreignRules,
  nsgDocument,
  nsgId,
  policyObject,
  requestObject,
  RESYNC_SUB,
  sourceOf,
} from "../estate.ts";

export interface ResyncEstate {
  nsgDocs: Record<string, unknown>[];
  policies: Record<string, unknown>[];
  requests: { body: Record<string, unknown>; status: AccessRequestStatus }[];
  managedRules: number;
}

const DURATION = "PT3H";

function activeStatus(rules: GrantRuleStatus[], start: Date, expires: Date): AccessRequestStatus {
  let conditions = setCondition(
    undefined,
    { type: "Approved", status: "True", reason: "PolicyAllows", message: "allowed by the policy" },
    start,
    1,
  );
  conditions = setCondition(
    conditions,
    {
      type: "Granted",
      status: "True",
      reason: "RulesInPlace",
      message: "every target NSG carries the grant",
    },
    start,
    1,
  );
  const expiresAt = expires.toISOString();
  // With the kstatus conditions the operator adds, or every request is rewritten at start-up.
  const status: AccessRequestStatus = {
    phase: "Active",
    startTime: start.toISOString(),
    expiresAt,
    observedGeneration: 1,
    conditions,
    rules,
    reason: "Granted",
    message: `access open until ${expiresAt}`,
  };
  return withRequestKstatus(status, start, 1);
}

/**
 * NSG i lives in subscription i mod S, so every subscription holds about N / S NSGs and a policy's
 * 100 consecutive targets span all of them (the resync lists each subscription once).
 */
export function buildResyncEstate(
  ns: string,
  nsgs: number,
  grants: number,
  policyCount: number,
  subscriptions: string[] = [RESYNC_SUB],
): ResyncEstate {
  if (subscriptions.length === 0) throw new Error("resync estate: at least one subscription is needed");
  const ids = Array.from({ length: nsgs }, (_, i) =>
    nsgId(`bench-resync-${i}`, subscriptions[i % subscriptions.length]),
  );
  const perPolicy = Math.ceil(nsgs / policyCount);
  if (perPolicy > 100) throw new Error(`resync: ${perPolicy} targets per policy exceeds the limit of 100`);
  const policies = Array.from({ length: policyCount }, (_, p) =>
    policyObject(ns, `resync-${p}`, ids.slice(p * perPolicy, (p + 1) * perPolicy)),
  );
  const start = new Date();
  const expires = new Date(start.getTime() + 3 * 3600_000);
  const requests = Array.from({ length: grants }, (_, k) => {
    const i = k % nsgs;
    const body = requestObject({
      namespace: ns,
      name: `g-${k}`,
      policy: `resync-${Math.floor(i / perPolicy)}`,
      source: sourceOf(k),
      duration: DURATION,
      targets: [ids[i] ?? ""],
      finalizers: [FINALIZER],
    });
    return { body, status: activeStatus([], start, expires) };
  });
  // What the operator will see: the objects with their status and generation 1.
  const asRequests = requests.map(
    (r) =>
      ({
        ...r.body,
        metadata: { ...(r.body.metadata as object), generation: 1 },
        status: r.status,
      }) as unknown as AccessRequest,
  );
  const asPolicies = policies.map(
    (p) => ({ ...p, metadata: { ...(p.metadata as object), generation: 1 } }) as unknown as JitPolicy,
  );
  const byTarget = new Map<string, Grant[]>();
  for (const g of activeGrants(asPolicies, asRequests, start).grants) {
    const list = byTarget.get(g.targetId) ?? [];
    list.push(g);
    byTarget.set(g.targetId, list);
  }
  const bindingsByNsg = new Map<string, PolicyBinding[]>();
  for (const p of asPolicies) {
    for (const b of policyBindings(p, true))
      bindingsByNsg.set(b.nsgId, [...(bindingsByNsg.get(b.nsgId) ?? []), b.binding]);
  }
  const placements = new Map<string, GrantRuleStatus[]>();
  let managedRules = 0;
  const nsgDocs = ids.map((id) => {
    const plan = planNsg({
      nsg: { id, securityRules: foreignRules() },
      bindings: bindingsByNsg.get(id) ?? [],
      grants: byTarget.get(id) ?? [],
    });
    if (plan.rejected.length > 0 || plan.conflicts.length > 0)
      throw new Error(`resync estate: ${id} does not plan cleanly`);
    for (const p of plan.placements) {
      const list = placements.get(p.grant.requestKey) ?? [];
      list.push({
        networkSecurityGroupId: id,
        ruleName: p.ruleName,
        priority: p.priority,
        port: p.grant.port,
        protocol: p.grant.protocol,
      });
      placements.set(p.grant.requestKey, list);
    }
    managedRules += plan.desired.length;
    return nsgDocument(id, plan.nsgBody);
  });
  for (const r of requests) {
    const key = `${ns}/${(r.body.metadata as { name: string }).name}`;
    r.status = activeStatus(placements.get(key) ?? [], start, expires);
  }
  return { nsgDocs, policies, requests, managedRules };
}
