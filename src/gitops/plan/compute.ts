// `drawbridge plan`: what applying the given JitPolicies would write to each NSG. It reuses the
// operator's own pieces: the scope check (core checkPolicyScope), target resolution through ARM
// (resolveTargets), bindings (policyBindings) and the pure NSG planner (core planNsg), against the
// live NSGs, policies, scopes and active requests. Nothing is written anywhere.
import type { AccessRequest, JitPolicy, JitScope } from "../../api/types.ts";
import type { AzurePort } from "../../azure/port.ts";
import { activeGrants, planNsg } from "../../core/index.ts";
import type { NamespaceInfo } from "../../core/scope.ts";
import { checkPolicyScope } from "../../core/scope.ts";
import type { SecurityRule } from "../../core/nsg.ts";
import { validatePolicySpec } from "../../core/validate-policy.ts";
import { policyBindings } from "../../operator/state/bindings.ts";
import type { NsgBinding } from "../../operator/state/bindings.ts";
import { objectKey } from "../../core/keys.ts";
import { resolveTargets } from "../../operator/policy/targets.ts";

export interface LiveState {
  policies: JitPolicy[];
  requests: AccessRequest[];
  scopes: JitScope[];
  namespaces: NamespaceInfo[];
}

export interface RuleChange {
  action: "add" | "change" | "delete";
  name: string;
  priority: number;
  access?: string;
}

export interface NsgReport {
  nsgId: string;
  changes: RuleChange[];
  conflicts: string[];
}

export interface PlanReport {
  nsgs: NsgReport[];
  /** Per proposed policy ("ns/name"): targets no JitScope covers, unresolvable targets, spec issues. */
  problems: { policy: string; message: string }[];
  changed: boolean;
}

async function bindingsOf(
  policy: JitPolicy,
  live: LiveState,
  azure: AzurePort,
  problems: PlanReport["problems"] | undefined,
): Promise<NsgBinding[]> {
  const key = objectKey(policy.metadata);
  const issues = validatePolicySpec(policy.spec);
  if (issues.length > 0) {
    for (const i of issues) problems?.push({ policy: key, message: `${i.field}: ${i.message}` });
    return [];
  }
  const ns = live.namespaces.find((n) => n.name === policy.metadata.namespace) ?? {
    name: policy.metadata.namespace ?? "default",
  };
  const verdict = checkPolicyScope(policy, ns, live.scopes);
  for (const t of verdict.outOfScope) problems?.push({ policy: key, message: `out of scope: ${t.message}` });
  const covered = new Set(verdict.targets.filter((t) => t.covered).map((t) => t.targetId));
  const inScope: JitPolicy = {
    ...policy,
    spec: {
      ...policy.spec,
      targets: policy.spec.targets.filter((t) =>
        covered.has(t.virtualMachineId ?? t.networkSecurityGroupId ?? ""),
      ),
    },
  };
  const resolution = await resolveTargets(inScope, azure);
  for (const p of resolution.problems) problems?.push({ policy: key, message: `unresolvable target: ${p}` });
  return policyBindings({ ...inScope, status: { ...inScope.status, targets: resolution.targets } }, true);
}

function changesOf(observed: SecurityRule[], puts: SecurityRule[], deletes: string[]): RuleChange[] {
  const names = new Set(observed.map((r) => r.name));
  const byName = new Map(observed.map((r) => [r.name, r]));
  return [
    ...puts.map((r) => ({
      action: names.has(r.name) ? ("change" as const) : ("add" as const),
      name: r.name,
      priority: r.priority,
      access: r.access,
    })),
    ...deletes.map((name) => ({
      action: "delete" as const,
      name,
      priority: byName.get(name)?.priority ?? 0,
      access: byName.get(name)?.access,
    })),
  ].sort((a, b) => a.priority - b.priority);
}

export async function computePlan(
  proposed: JitPolicy[],
  live: LiveState,
  azure: AzurePort,
  now: Date,
): Promise<PlanReport> {
  const proposedKeys = new Set(proposed.map((p) => objectKey(p.metadata)));
  // The cluster as it would be after apply: the files replace live policies of the same name.
  const after = [...live.policies.filter((p) => !proposedKeys.has(objectKey(p.metadata))), ...proposed];
  const problems: PlanReport["problems"] = [];
  const byNsg = new Map<string, { nsgId: string; bindings: NsgBinding["binding"][]; touched: boolean }>();
  for (const policy of after) {
    const mine = proposedKeys.has(objectKey(policy.metadata));
    for (const b of await bindingsOf(policy, live, azure, mine ? problems : undefined)) {
      const k = b.nsgId.toLowerCase();
      const entry = byNsg.get(k) ?? { nsgId: b.nsgId, bindings: [], touched: false };
      entry.bindings.push(b.binding);
      entry.touched ||= mine;
      byNsg.set(k, entry);
    }
  }
  // NSGs the live versions of the proposed policies bind: a target the files drop must show its deletes.
  for (const policy of live.policies.filter((p) => proposedKeys.has(objectKey(p.metadata)))) {
    for (const b of await bindingsOf(policy, live, azure, undefined)) {
      const k = b.nsgId.toLowerCase();
      const entry = byNsg.get(k) ?? { nsgId: b.nsgId, bindings: [], touched: true };
      entry.touched = true;
      byNsg.set(k, entry);
    }
  }
  // The operator's signing key is not the plan's to read: a request counts as approved when it
  // carries a signature at all. Unsigned approvals (which the operator ignores) open nothing here.
  const { grants } = activeGrants(
    after,
    live.requests,
    now,
    (r) => r.status?.approvalSignature !== undefined,
  );
  const nsgs: NsgReport[] = [];
  for (const entry of [...byNsg.values()]
    .filter((e) => e.touched)
    .sort((a, b) => a.nsgId.localeCompare(b.nsgId))) {
    const observed = await azure.getNsg(entry.nsgId);
    const plan = planNsg({ nsg: observed, bindings: entry.bindings, grants });
    nsgs.push({
      nsgId: entry.nsgId,
      changes: changesOf(observed.securityRules, plan.puts, plan.deletes),
      conflicts: plan.conflicts.filter((c) => proposedKeys.has(c.policyKey)).map((c) => c.message),
    });
  }
  return { nsgs, problems, changed: nsgs.some((n) => n.changes.length > 0) };
}
