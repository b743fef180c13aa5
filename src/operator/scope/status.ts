// JitScope status: which namespaces a scope binds right now (by name or selector), so a cluster
// admin sees with `kubectl get jitscope -o wide` what a selector actually selects. Written by the
// leader when scopes or namespace labels change, and only when it changed.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import type { JitScope, JitScopeStatus } from "../../api/types.ts";
import { API_GROUP, API_VERSION, JITSCOPE_PLURAL } from "../../api/types.ts";
import { scopeBindsNamespace } from "../../core/scope.ts";
import { deepEqual, setCondition } from "../../kube/conditions.ts";
import type { NamespaceInfo } from "./gate.ts";

/** The CRD's status.namespaces maxItems: beyond it the list is cut and the condition says so. */
const MAX_LISTED = 10_000;

export function scopeStatus(scope: JitScope, namespaces: NamespaceInfo[], now: Date): JitScopeStatus {
  const bound = namespaces
    .filter((ns) => scopeBindsNamespace(scope, ns))
    .map((ns) => ns.name)
    .sort();
  const gen = scope.metadata.generation;
  const ready =
    bound.length > 0
      ? {
          type: "Ready",
          status: "True" as const,
          reason: "Bound",
          message: `binds ${bound.length} namespace(s)`,
        }
      : {
          type: "Ready",
          status: "False" as const,
          reason: "NoNamespace",
          message: "no existing namespace matches spec.namespaces; the scope grants nothing yet",
        };
  return {
    observedGeneration: gen,
    conditions: setCondition(scope.status?.conditions, ready, now, gen),
    namespaces: bound.slice(0, MAX_LISTED),
  };
}

export type ScopeStatusWriter = (scope: JitScope, status: JitScopeStatus) => Promise<void>;

export function scopeStatusWriter(kc: KubeConfig): ScopeStatusWriter {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  return async (scope, status) => {
    await custom.patchClusterCustomObjectStatus(
      {
        group: API_GROUP,
        version: API_VERSION,
        plural: JITSCOPE_PLURAL,
        name: scope.metadata.name ?? "",
        body: { status },
      },
      merge,
    );
  };
}

/** Statuses that differ from what each scope carries. */
export function changedScopeStatuses(
  scopes: JitScope[],
  namespaces: NamespaceInfo[],
  now: Date,
): Array<{ scope: JitScope; status: JitScopeStatus }> {
  const out: Array<{ scope: JitScope; status: JitScopeStatus }> = [];
  for (const scope of scopes) {
    const status = scopeStatus(scope, namespaces, now);
    if (!deepEqual(status, scope.status ?? {})) out.push({ scope, status });
  }
  return out;
}
