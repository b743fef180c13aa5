// JitScopes for the test suites: every harness that runs the operator binds its namespace to the
// subscriptions of its estate first, as a platform admin would, since without a scope nothing opens.
import { stringify } from "yaml";

export interface ScopeDoc {
  apiVersion: "jit.drawbridge.dev/v1alpha1";
  kind: "JitScope";
  metadata: { name: string };
  spec: {
    namespaces: { names?: string[]; selector?: Record<string, unknown> };
    azureScopes: string[];
    ceilings?: Record<string, unknown>;
  };
}

/** A JitScope named `name` binding `namespaces` to `azureScopes`. */
export function scopeDoc(
  name: string,
  namespaces: string[],
  azureScopes: string[],
  ceilings?: Record<string, unknown>,
): ScopeDoc {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitScope",
    metadata: { name },
    spec: { namespaces: { names: namespaces }, azureScopes, ...(ceilings === undefined ? {} : { ceilings }) },
  };
}

export function scopeYaml(...args: Parameters<typeof scopeDoc>): string {
  return stringify(scopeDoc(...args));
}
