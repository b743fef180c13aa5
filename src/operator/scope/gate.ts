// The tenancy gate: which targets of a policy the JitScopes bound to its namespace cover. The rest of
// the operator sees policies through it (view): an uncovered target has no binding, so no NSG is
// written for it and rules it still has are removed; grants and requests on it are refused. Verdicts
// are memoised per policy object and recomputed when a scope or a namespace changes (invalidate).
import type { AccessRequest, JitPolicy, JitScope } from "../../api/types.ts";
import { checkPolicyScope, scopeBindsNamespace } from "../../core/scope.ts";
import type { PolicyScopeVerdict, TargetScope } from "../../core/scope.ts";
import type { Issue, Verdict } from "../../core/types.ts";

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

export interface ScopeSources {
  scopes(): JitScope[];
  /** The namespace's labels, or undefined when the namespace is not (or no longer) known. */
  namespace(name: string): NamespaceInfo | undefined;
}

export interface ScopeGateOptions {
  /** Namespaces that no JitScope binds are left unrestricted (an explicit opt-out for single-team clusters). */
  allowUnscoped: boolean;
}

interface Entry {
  generation: number;
  verdict: PolicyScopeVerdict;
  view: JitPolicy;
}

export const OUT_OF_SCOPE = "OutOfScope";

export class ScopeGate {
  readonly #sources: ScopeSources;
  readonly #allowUnscoped: boolean;
  #generation = 0;
  #memo = new WeakMap<JitPolicy, Entry>();

  constructor(sources: ScopeSources, opts: ScopeGateOptions) {
    this.#sources = sources;
    this.#allowUnscoped = opts.allowUnscoped;
  }

  /** A scope or a namespace changed: every verdict is recomputed on next use. */
  invalidate(): void {
    this.#generation++;
  }

  verdict(policy: JitPolicy): PolicyScopeVerdict {
    return this.#entry(policy).verdict;
  }

  /** The policy as the operator acts on it: only the targets its scopes cover. */
  view(policy: JitPolicy): JitPolicy {
    return this.#entry(policy).view;
  }

  /** What changes the operator's view of a policy, for change detection. */
  signature(policy: JitPolicy): string {
    return this.verdict(policy)
      .targets.map((t) => `${t.covered ? "+" : "-"}${t.targetId}`)
      .join("\n");
  }

  /**
   * A denial when the request names a target its policy's scopes do not cover, or when they cover
   * none of its targets; undefined when the scope lets the request through to the policy's checks.
   */
  requestVerdict(request: AccessRequest, policy: JitPolicy): Verdict | undefined {
    const verdict = this.verdict(policy);
    if (verdict.outOfScope.length === 0) return undefined;
    const named = request.spec.targets ?? [];
    if (named.length > 0) {
      const index = named.findIndex((id) => outOfScope(verdict, id) !== undefined);
      if (index < 0) return undefined;
      const t = outOfScope(verdict, named[index] ?? "");
      return denial(`spec.targets[${index}]`, t?.message ?? "target outside every JitScope");
    }
    if (verdict.targets.some((t) => t.covered)) return undefined;
    const first = verdict.outOfScope[0];
    return denial("spec.policyName", first?.message ?? "no target of the policy is in scope");
  }

  #entry(policy: JitPolicy): Entry {
    const cached = this.#memo.get(policy);
    if (cached?.generation === this.#generation) return cached;
    const verdict = this.#compute(policy);
    const covered = new Set(verdict.targets.filter((t) => t.covered).map((t) => t.targetId.toLowerCase()));
    const targets = policy.spec.targets.filter((t) => {
      const id = t.virtualMachineId ?? t.networkSecurityGroupId;
      return id !== undefined && covered.has(id.toLowerCase());
    });
    const view =
      targets.length === policy.spec.targets.length
        ? policy
        : { ...policy, spec: { ...policy.spec, targets } };
    const entry: Entry = { generation: this.#generation, verdict, view };
    this.#memo.set(policy, entry);
    return entry;
  }

  #compute(policy: JitPolicy): PolicyScopeVerdict {
    const name = policy.metadata.namespace ?? "";
    const ns = this.#sources.namespace(name);
    const ids = policy.spec.targets
      .map((t) => t.virtualMachineId ?? t.networkSecurityGroupId)
      .filter((id): id is string => id !== undefined);
    if (ns === undefined) {
      return uncovered(ids, `namespace ${name} is not known to the operator (yet); nothing is opened there`);
    }
    const scopes = this.#sources.scopes();
    const verdict = checkPolicyScope(policy, ns, scopes);
    if (this.#allowUnscoped && !scopes.some((s) => scopeBindsNamespace(s, ns))) {
      // No scope binds the namespace and the operator was told to leave such namespaces unrestricted.
      const message = `no JitScope binds namespace ${name}; unrestricted (--allow-unscoped-namespaces)`;
      const targets = ids.map((targetId) => ({ targetId, covered: true, message }));
      return { targets, outOfScope: [] };
    }
    return verdict;
  }
}

function outOfScope(verdict: PolicyScopeVerdict, id: string): TargetScope | undefined {
  const key = id.toLowerCase();
  return verdict.outOfScope.find((t) => t.targetId.toLowerCase() === key);
}

function uncovered(ids: string[], message: string): PolicyScopeVerdict {
  const targets = ids.map((targetId) => ({ targetId, covered: false, message }));
  return { targets, outOfScope: targets };
}

function denial(field: string, message: string): Verdict {
  const issue: Issue = { reason: OUT_OF_SCOPE, field, message };
  return { allowed: false, reason: OUT_OF_SCOPE, field, message, issues: [issue] };
}
