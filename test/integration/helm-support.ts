// Shared bits of the helm tests: non-default values and accessors over rendered manifests.
import { expect } from "@jest/globals";
import type { Manifest } from "../../src/helm/template.ts";

export const WORKLOAD_CLIENT_ID = "11111111-2222-3333-4444-555555555555";

export const NON_DEFAULT_VALUES = {
  replicaCount: 3,
  crds: { enabled: false },
  operator: {
    writeMode: "nsg",
    resyncInterval: "2m",
    watchNamespace: "team-a",
    logLevel: "debug",
    armEndpoint: "https://arm.example.test",
    armCaConfigMap: { name: "arm-ca", key: "bundle.pem" },
  },
  azure: {
    workloadIdentity: { clientId: WORKLOAD_CLIENT_ID, tenantId: "99999999-8888-7777-6666-555555555555" },
  },
  rbac: { aggregateToDefaultRoles: true },
  admissionPolicy: { namespaceSelector: { matchLabels: { "jit.drawbridge.dev/enabled": "true" } } },
  serviceMonitor: { enabled: true, labels: { release: "prometheus" } },
};

export type Container = {
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: { capabilities?: { drop?: string[]; add?: string[] } } & Record<string, unknown>;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  resources?: unknown;
  env?: { name: string; value?: string }[];
  volumeMounts?: unknown[];
};

export type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

/** The one manifest of `kind`, failing the test when there are none or several. */
export function only(manifests: Manifest[], kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found.map((m) => m.kind)).toEqual([kind]);
  return found[0] as Manifest;
}

export function containerOf(deploy: Manifest): Container {
  const spec = deploy.spec as { template: { spec: { containers: Container[] } } };
  expect(spec.template.spec.containers).toHaveLength(1);
  return spec.template.spec.containers[0] as Container;
}

export function rbacRules(manifests: Manifest[]): { role: string; rule: Rule }[] {
  return manifests
    .filter((m) => m.kind === "ClusterRole" || m.kind === "Role")
    .flatMap((m) => ((m.rules as Rule[] | undefined) ?? []).map((rule) => ({ role: m.metadata.name, rule })));
}

/** "group/resource:verb" for every combination a role grants, sorted. */
export function ruleKeys(manifests: Manifest[], roleName: string): string[] {
  return rbacRules(manifests)
    .filter((r) => r.role === roleName)
    .flatMap(({ rule }) =>
      rule.apiGroups.flatMap((g) => rule.resources.flatMap((r) => rule.verbs.map((v) => `${g}/${r}:${v}`))),
    )
    .sort();
}
