// The chart rendered by the pinned helm, checked property by property: restricted pod security,
// probes, leader election, workload identity, RBAC without wildcards, the requester admission
// policy, the CRD switch and the optional ServiceMonitor; operator flags parse with the
// operator's own configuration parser.
import { beforeAll, describe, expect, jest, test } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ensureHelm } from "../../src/helm/build.ts";
import { chartDir, helmTemplate, renderChart, runHelm, type Manifest } from "../../src/helm/template.ts";
import { parseConfig } from "../../src/runtime/config.ts";
import { parseSweepConfig } from "../../src/sweep/config.ts";
import { OPERATOR_ENV, OPERATOR_NODE_OPTIONS } from "../../src/runtime/node-options.ts";
import {
  NON_DEFAULT_VALUES,
  WORKLOAD_CLIENT_ID,
  containerOf,
  only,
  rbacRules,
  ruleKeys,
} from "./helm-support.ts";

// Every step spawns helm or kubectl; on a loaded machine that takes seconds, not milliseconds.
jest.setTimeout(60_000);

let helm = "";
let defaults: Manifest[] = [];
let custom: Manifest[] = [];
let notifying: Manifest[] = [];

beforeAll(async () => {
  // Cold: builds helm from the Go module proxy (minutes); warm: a cache hit.
  helm = await ensureHelm({ env: process.env });
  defaults = await renderChart(helm);
  custom = await renderChart(helm, { namespace: "jit-ops", values: NON_DEFAULT_VALUES });
  notifying = await renderChart(helm, { values: { notifications: { readWebhookSecrets: true } } });
}, 1_800_000);

function operatorArgs(manifests: Manifest[]): string[] {
  const args = containerOf(only(manifests, "Deployment")).args ?? [];
  expect(args[0]).toBe("run");
  return args.slice(1);
}

const host = { podNamespace: (): string => "drawbridge-system", hostname: (): string => "pod", pid: 1 };

describe("helm lint", () => {
  test("passes --strict with the default values and with non-default values", async () => {
    const plain = await runHelm(helm, ["lint", "--strict", chartDir()]);
    expect(plain.stderr + plain.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(plain.code).toBe(0);
    const withValues = await runHelm(helm, [
      "lint",
      "--strict",
      chartDir(),
      "--set",
      `azure.workloadIdentity.clientId=${WORKLOAD_CLIENT_ID}`,
      "--set",
      "serviceMonitor.enabled=true",
    ]);
    expect(withValues.code).toBe(0);
  });
});

describe("values.schema.json through helm", () => {
  test.each([
    ["replicaCont=2", "replicaCont"],
    ["operator.writeMod=nsg", "writeMod"],
    ["operator.writeMode=both", "writeMode"],
    ["admissionPolicy.requirePolicyUse=maybe", "requirePolicyUse"],
    ["admissionPolicy.operatorUsername=admin", "operatorUsername"],
    ["admissionPolicy.operatorUsernames[0]=", "operatorUsernames"],
    ["rbac.requesterMayUseAnyPolicy=no", "requesterMayUseAnyPolicy"],
  ])("rejects --set %s naming %s", async (set, field) => {
    const result = await helmTemplate(helm, { extraArgs: ["--set", set] });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(field);
  });

  test("refuses two replicas without leader election", async () => {
    const result = await helmTemplate(helm, {
      extraArgs: ["--set", "operator.leaderElection.enabled=false"],
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("operator.leaderElection.enabled");
  });
});

describe("Deployment", () => {
  test("runs 2 replicas with leader election in the release namespace", () => {
    const deploy = only(defaults, "Deployment") as Manifest & { spec: { replicas: number } };
    expect(deploy.spec.replicas).toBe(2);
    const args = operatorArgs(defaults);
    expect(args).toContain("--leader-elect=true");
    expect(args).toContain("--leader-election-namespace=drawbridge-system");
  });

  test("passes flags the operator's configuration parser accepts", () => {
    const config = parseConfig(operatorArgs(defaults), {}, host);
    expect(config).toMatchObject({ writeMode: "rule", leaderElect: true, namespace: undefined });
    expect(config.metricsBindAddress).toBe(":8080");
    expect(config.healthProbeBindAddress).toBe(":8081");
    const customConfig = parseConfig(operatorArgs(custom), {}, host);
    expect(customConfig).toMatchObject({
      writeMode: "nsg",
      namespace: "team-a",
      resyncIntervalMs: 120_000,
      logLevel: "debug",
      leaderElectionNamespace: "jit-ops",
      armEndpoint: "https://arm.example.test",
      armCaFile: "/etc/drawbridge/arm-ca/bundle.pem",
    });
  });

  test("meets Pod Security restricted and writes only to an emptyDir /tmp", () => {
    const deploy = only(defaults, "Deployment") as Manifest & {
      spec: { template: { spec: Record<string, unknown> } };
    };
    const pod = deploy.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const c = containerOf(deploy);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.securityContext?.capabilities?.add).toBeUndefined();
    expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(pod.volumes).toContainEqual({ name: "tmp", emptyDir: { sizeLimit: "64Mi" } });
    expect(c.resources).toMatchObject({
      requests: { cpu: "50m", memory: "256Mi" },
      limits: { memory: "384Mi" },
    });
    expect(c.env).toContainEqual({ name: "NODE_OPTIONS", value: OPERATOR_NODE_OPTIONS });
    for (const [name, value] of Object.entries(OPERATOR_ENV)) expect(c.env).toContainEqual({ name, value });
  });

  test("probes /healthz and /readyz on the health port the operator binds", () => {
    const c = containerOf(only(defaults, "Deployment"));
    const health = c.ports?.find((p) => p.name === "health");
    expect(health?.containerPort).toBe(8081);
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: "/healthz", port: "health" } });
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: "/readyz", port: "health" } });
    expect(operatorArgs(defaults)).toContain(`--health-probe-bind-address=:${String(health?.containerPort)}`);
  });

  test("spreads pods over zones and nodes", () => {
    const deploy = only(defaults, "Deployment") as Manifest & {
      spec: { template: { spec: { topologySpreadConstraints: { topologyKey: string }[] } } };
    };
    const keys = deploy.spec.template.spec.topologySpreadConstraints.map((t) => t.topologyKey);
    expect(keys).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
  });
});

describe("workload identity", () => {
  test("labels the pod and annotates the ServiceAccount with the managed identity", () => {
    const deploy = only(custom, "Deployment") as Manifest & {
      spec: {
        template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string } };
      };
    };
    expect(deploy.spec.template.metadata.labels["azure.workload.identity/use"]).toBe("true");
    const sa = only(custom, "ServiceAccount");
    expect(deploy.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    expect(sa.metadata.name).toBe("drawbridge");
    expect(sa.metadata.annotations?.["azure.workload.identity/client-id"]).toBe(WORKLOAD_CLIENT_ID);
  });

  test("omits the client-id annotation until a client ID is given", () => {
    expect(
      only(defaults, "ServiceAccount").metadata.annotations?.["azure.workload.identity/client-id"],
    ).toBeUndefined();
  });
});

describe("RBAC", () => {
  test("no rule in any Role or ClusterRole uses a wildcard", () => {
    for (const manifests of [defaults, custom]) {
      const rules = rbacRules(manifests);
      expect(rules.length).toBeGreaterThan(5);
      for (const { role, rule } of rules) {
        const words = [...rule.apiGroups, ...rule.resources, ...rule.verbs, ...(rule.resourceNames ?? [])];
        expect({ role, wildcard: words.some((w) => w.includes("*")) }).toEqual({ role, wildcard: false });
      }
    }
  });

  test("the operator gets exactly what it needs", () => {
    expect(ruleKeys(defaults, "drawbridge-operator")).toEqual(
      [
        ...["jitpolicies", "accessrequests"].flatMap((r) =>
          ["get", "list", "watch", "update", "patch"].map((v) => `jit.drawbridge.dev/${r}:${v}`),
        ),
        "jit.drawbridge.dev/accessrequests:delete",
        // Read only: approvals count towards requests, notifiers name webhooks.
        ...["accessapprovals", "jitnotifiers"].flatMap((r) =>
          ["get", "list", "watch"].map((v) => `jit.drawbridge.dev/${r}:${v}`),
        ),
        ...["jitpolicies/status", "accessrequests/status"].flatMap((r) =>
          ["get", "update", "patch"].map((v) => `jit.drawbridge.dev/${r}:${v}`),
        ),
        "jit.drawbridge.dev/jitpolicies/finalizers:update",
        "jit.drawbridge.dev/accessrequests/finalizers:update",
        "/events:create",
        "/events:patch",
        "events.k8s.io/events:create",
        "events.k8s.io/events:patch",
      ].sort(),
    );
    // Webhook Secrets only when asked for.
    expect(ruleKeys(defaults, "drawbridge-operator")).not.toContain("/secrets:get");
    expect(ruleKeys(notifying, "drawbridge-operator")).toContain("/secrets:get");
    const bindings = defaults.filter((m) => m.kind === "ClusterRoleBinding") as (Manifest & {
      subjects: unknown[];
    })[];
    expect(bindings.map((b) => b.metadata.name).sort()).toEqual([
      "drawbridge-operator",
      "drawbridge-operator-cluster",
    ]);
    for (const b of bindings) {
      expect(b.subjects).toEqual([
        { kind: "ServiceAccount", name: "drawbridge", namespace: "drawbridge-system" },
      ]);
    }
    // Cluster-scoped reads in every mode: scopes, namespace labels, the admission guard's objects.
    expect(ruleKeys(defaults, "drawbridge-operator-cluster")).toEqual(
      [
        ...["get", "list", "watch"].map((v) => `/namespaces:${v}`),
        ...["validatingadmissionpolicies", "validatingadmissionpolicybindings"].flatMap((r) =>
          ["get", "list", "watch"].map((v) => `admissionregistration.k8s.io/${r}:${v}`),
        ),
        ...["get", "list", "watch"].map((v) => `jit.drawbridge.dev/jitscopes:${v}`),
        "jit.drawbridge.dev/jitscopes/status:patch",
        "jit.drawbridge.dev/jitscopes/status:update",
      ].sort(),
    );
    const roles = defaults.filter((m) => m.kind === "Role");
    expect(roles.map((r) => `${r.metadata.namespace ?? ""}/${r.metadata.name}`).sort()).toEqual([
      "drawbridge-system/drawbridge-leader-election",
      "drawbridge-system/drawbridge-scope-index",
      "drawbridge-system/drawbridge-signing-key",
    ]);
    expect(ruleKeys(defaults, "drawbridge-leader-election")).toEqual([
      "coordination.k8s.io/leases:create",
      "coordination.k8s.io/leases:get",
      "coordination.k8s.io/leases:update",
    ]);
    // The scope index: create cannot be limited by name; everything else is the one ConfigMap.
    expect(roles.find((r) => r.metadata.name === "drawbridge-scope-index")?.rules).toEqual([
      { apiGroups: ["jit.drawbridge.dev"], resources: ["jitscopeindexes"], verbs: ["create"] },
      {
        apiGroups: ["jit.drawbridge.dev"],
        resources: ["jitscopeindexes"],
        resourceNames: ["drawbridge-scope-index"],
        verbs: ["get", "update", "patch"],
      },
    ]);
    expect(containerOf(only(defaults, "Deployment")).args).toContain(
      "--scope-index-name=drawbridge-scope-index",
    );
    // The signing key: create cannot be limited by name; reading is the one Secret, nothing else.
    expect(roles.find((r) => r.metadata.name === "drawbridge-signing-key")?.rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["drawbridge-signing-key"], verbs: ["get"] },
    ]);
    expect(containerOf(only(defaults, "Deployment")).args).toContain(
      "--signing-secret-name=drawbridge-signing-key",
    );
  });

  test("watching one namespace binds the operator there only", () => {
    // Only the cluster-scoped reads (scopes, namespaces, admission objects) stay cluster-wide.
    expect(custom.filter((m) => m.kind === "ClusterRoleBinding").map((m) => m.metadata.name)).toEqual([
      "drawbridge-operator-cluster",
    ]);
    const bindings = custom.filter(
      (m) => m.kind === "RoleBinding" && m.metadata.name === "drawbridge-operator",
    );
    expect(bindings.map((b) => b.metadata.namespace)).toEqual(["team-a"]);
  });

  test("people get requester, policy-admin and viewer roles", () => {
    expect(ruleKeys(defaults, "drawbridge-requester")).toEqual(
      [
        ...["create", "get", "list", "watch", "patch"].map((v) => `jit.drawbridge.dev/accessrequests:${v}`),
        ...["get", "list", "watch", "use"].map((v) => `jit.drawbridge.dev/jitpolicies:${v}`),
      ].sort(),
    );
    const admin = ruleKeys(defaults, "drawbridge-policy-admin").filter((k) => k.includes("/jitpolicies:"));
    expect(admin).toEqual(
      ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"].map(
        (v) => `jit.drawbridge.dev/jitpolicies:${v}`,
      ),
    );
    expect(ruleKeys(defaults, "drawbridge-viewer").every((k) => /:(get|list|watch)$/.test(k))).toBe(true);
    expect(ruleKeys(defaults, "drawbridge-approver")).toContain("jit.drawbridge.dev/accessapprovals:create");
    expect(ruleKeys(defaults, "drawbridge-requester").some((k) => k.includes("accessapprovals"))).toBe(false);
    const aggregated = custom.find((m) => m.metadata.name === "drawbridge-requester");
    expect(aggregated?.metadata.labels?.["rbac.authorization.k8s.io/aggregate-to-edit"]).toBe("true");
  });
});

describe("requester admission policy", () => {
  test("denies a CREATE whose spec.requester is not the caller, and revoking others' requests", () => {
    const policy = named(
      defaults,
      "ValidatingAdmissionPolicy",
      "drawbridge-requester-is-caller",
    ) as Manifest & {
      spec: {
        failurePolicy: string;
        matchConstraints: { resourceRules: { operations: string[]; resources: string[] }[] };
        validations: { expression: string; messageExpression: string }[];
      };
    };
    expect(policy.spec.failurePolicy).toBe("Fail");
    expect(policy.spec.matchConstraints.resourceRules).toMatchObject([
      { operations: ["CREATE", "UPDATE"], resources: ["accessrequests"] },
    ]);
    expect(policy.spec.validations[0]?.expression).toContain(
      "object.spec.requester == request.userInfo.username",
    );
    expect(policy.spec.validations[0]?.messageExpression).toContain(
      "spec.requester must equal your user name",
    );
    expect(policy.spec.validations[1]?.expression).toContain(
      "oldObject.spec.requester == request.userInfo.username",
    );
    expect(policy.spec.validations[1]?.expression).toContain(".check('update').allowed()");
    const binding = named(
      defaults,
      "ValidatingAdmissionPolicyBinding",
      "drawbridge-requester-is-caller",
    ) as Manifest & {
      spec: { policyName: string; validationActions: string[]; matchResources?: unknown };
    };
    expect(binding.spec).toEqual({ policyName: policy.metadata.name, validationActions: ["Deny"] });
    const scoped = named(
      custom,
      "ValidatingAdmissionPolicyBinding",
      "drawbridge-requester-is-caller",
    ) as Manifest & {
      spec: Record<string, unknown>;
    };
    expect(scoped.spec.matchResources).toEqual({
      namespaceSelector: { matchLabels: { "jit.drawbridge.dev/enabled": "true" } },
    });
  });
});

describe("per-policy permission (verb use on jitpolicies)", () => {
  let restricted: Manifest[] = [];

  beforeAll(async () => {
    restricted = await renderChart(helm, {
      values: { admissionPolicy: { requirePolicyUse: false }, rbac: { requesterMayUseAnyPolicy: false } },
    });
  });

  test("the requester policy needs use on the named policy, on CREATE, naming policy and verb", () => {
    const policy = named(
      defaults,
      "ValidatingAdmissionPolicy",
      "drawbridge-requester-is-caller",
    ) as Manifest & {
      metadata: { labels: Record<string, string> };
      spec: { validations: { expression: string; messageExpression: string }[] };
    };
    expect(policy.metadata.labels["jit.drawbridge.dev/guard"]).toBe("requester");
    expect(policy.spec.validations).toHaveLength(3);
    const use = policy.spec.validations[2];
    expect(use?.expression).toContain("request.operation != 'CREATE' ||");
    expect(use?.expression).toContain("authorizer.group('jit.drawbridge.dev').resource('jitpolicies')");
    expect(use?.expression).toContain(
      ".namespace(request.namespace).name(object.spec.policyName).check('use').allowed()",
    );
    expect(use?.messageExpression).toContain('may not use JitPolicy "');
    expect(use?.messageExpression).toContain(
      'a request needs the verb "use" on jitpolicies.jit.drawbridge.dev',
    );
  });

  test("requirePolicyUse=false drops the check and keeps the others", () => {
    const policy = named(
      restricted,
      "ValidatingAdmissionPolicy",
      "drawbridge-requester-is-caller",
    ) as Manifest & {
      spec: { validations: { expression: string }[] };
    };
    expect(policy.spec.validations).toHaveLength(2);
    expect(policy.spec.validations.some((v) => v.expression.includes("check('use')"))).toBe(false);
  });

  test("the requester role grants use on every policy unless requesterMayUseAnyPolicy is false", async () => {
    expect(ruleKeys(defaults, "drawbridge-requester")).toContain("jit.drawbridge.dev/jitpolicies:use");
    expect(ruleKeys(restricted, "drawbridge-requester")).not.toContain("jit.drawbridge.dev/jitpolicies:use");
    expect(ruleKeys(restricted, "drawbridge-requester")).toContain(
      "jit.drawbridge.dev/accessrequests:create",
    );
    // Values from an older chart (helm upgrade --reuse-values) lack both keys: both stay on.
    const older = await renderChart(helm, {
      values: { admissionPolicy: { requirePolicyUse: null }, rbac: { requesterMayUseAnyPolicy: null } },
    });
    expect(ruleKeys(older, "drawbridge-requester")).toContain("jit.drawbridge.dev/jitpolicies:use");
    const policy = named(older, "ValidatingAdmissionPolicy", "drawbridge-requester-is-caller") as Manifest & {
      spec: { validations: { expression: string }[] };
    };
    expect(policy.spec.validations.some((v) => v.expression.includes("check('use')"))).toBe(true);
    // use is granted to requesters only: the viewer may not ask for access.
    expect(ruleKeys(defaults, "drawbridge-viewer")).not.toContain("jit.drawbridge.dev/jitpolicies:use");
  });
});

describe("lifecycle metadata admission policy", () => {
  type LifecyclePolicy = Manifest & {
    metadata: { labels: Record<string, string> };
    spec: {
      failurePolicy: string;
      matchConstraints: { resourceRules: { operations: string[]; resources: string[] }[] };
      matchConditions: { name: string; expression: string }[];
      validations: { expression: string; messageExpression: string }[];
    };
  };
  const name = "drawbridge-lifecycle-is-operators";
  let outside: Manifest[] = [];

  beforeAll(async () => {
    outside = await renderChart(helm, {
      namespace: "jit-ops",
      values: {
        serviceAccount: { name: "jit-operator" },
        admissionPolicy: { operatorUsernames: ["drawbridge-outside", 'we"ird'] },
      },
    });
  });

  test("guards the finalizer and ownerReferences of requests and policies, failing closed", () => {
    const policy = named(defaults, "ValidatingAdmissionPolicy", name) as LifecyclePolicy;
    expect(policy.metadata.labels["jit.drawbridge.dev/guard"]).toBe("metadata");
    expect(policy.spec.failurePolicy).toBe("Fail");
    expect(policy.spec.matchConstraints.resourceRules).toMatchObject([
      { operations: ["CREATE", "UPDATE"], resources: ["accessrequests", "jitpolicies"] },
    ]);
    const [finalizer, requestOwners, policyOwners] = policy.spec.validations;
    expect(finalizer?.expression).toBe(
      "variables.createdHeld || variables.hasFinalizer == variables.hadFinalizer",
    );
    expect(finalizer?.messageExpression).toContain("only the drawbridge operator may");
    expect(requestOwners?.expression).toContain("request.resource.resource != 'accessrequests'");
    expect(requestOwners?.expression).toContain("size(variables.addedOwners) == 0");
    expect(policyOwners?.expression).toContain(".name(object.metadata.name).check('delete').allowed()");
    const binding = named(defaults, "ValidatingAdmissionPolicyBinding", name) as Manifest & {
      spec: Record<string, unknown>;
    };
    expect(binding.spec).toEqual({ policyName: name, validationActions: ["Deny"] });
    expect(named(custom, "ValidatingAdmissionPolicyBinding", name).spec).toMatchObject({
      matchResources: { namespaceSelector: { matchLabels: { "jit.drawbridge.dev/enabled": "true" } } },
    });
  });

  test("exempts exactly the chart's ServiceAccount and admissionPolicy.operatorUsernames", () => {
    const condition = (ms: Manifest[]): string =>
      (named(ms, "ValidatingAdmissionPolicy", name) as LifecyclePolicy).spec.matchConditions[0]?.expression ??
      "";
    expect(condition(defaults)).toBe(
      '!(request.userInfo.username in ["system:serviceaccount:drawbridge-system:drawbridge"])',
    );
    // JSON string literals are CEL string literals: a quote in a name stays inside its string.
    expect(condition(outside)).toBe(
      '!(request.userInfo.username in ["system:serviceaccount:jit-ops:jit-operator","drawbridge-outside","we\\"ird"])',
    );
  });

  test("renders with the other admission objects, and not at all when admission is off", async () => {
    expect(
      defaults
        .filter((m) => m.kind === "ValidatingAdmissionPolicy")
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual([
      "drawbridge-approver-is-caller",
      name,
      "drawbridge-policy-targets-in-scope",
      "drawbridge-requester-is-caller",
    ]);
    const off = await renderChart(helm, { values: { admissionPolicy: { enabled: false } } });
    expect(off.filter((m) => m.kind.startsWith("ValidatingAdmissionPolicy"))).toEqual([]);
  });
});

describe("scope admission policy", () => {
  test("refuses policies outside the namespace's scopes, reading the index the operator publishes", () => {
    const policy = named(
      defaults,
      "ValidatingAdmissionPolicy",
      "drawbridge-policy-targets-in-scope",
    ) as Manifest & {
      spec: {
        failurePolicy: string;
        paramKind: unknown;
        matchConstraints: { resourceRules: { operations: string[]; resources: string[] }[] };
        matchConditions: { expression: string }[];
      };
    };
    expect(policy.spec.failurePolicy).toBe("Fail");
    expect(policy.spec.paramKind).toEqual({
      apiVersion: "jit.drawbridge.dev/v1alpha1",
      kind: "JitScopeIndex",
    });
    expect(policy.spec.matchConstraints.resourceRules).toMatchObject([
      { operations: ["CREATE", "UPDATE"], resources: ["jitpolicies"] },
    ]);
    // Finalizer and status writes on a policy whose scope narrowed must still go through.
    expect(policy.spec.matchConditions[0]?.expression).toContain("object.spec != oldObject.spec");
    const binding = named(
      defaults,
      "ValidatingAdmissionPolicyBinding",
      "drawbridge-policy-targets-in-scope",
    ) as Manifest & {
      spec: { paramRef: Record<string, string>; validationActions: string[] };
    };
    expect(binding.spec.validationActions).toEqual(["Deny"]);
    expect(binding.spec.paramRef).toEqual({
      name: "drawbridge-scope-index",
      namespace: "drawbridge-system",
      parameterNotFoundAction: "Deny",
    });
    const scoped = named(
      custom,
      "ValidatingAdmissionPolicyBinding",
      "drawbridge-policy-targets-in-scope",
    ) as Manifest & {
      spec: Record<string, unknown>;
    };
    expect(scoped.spec.matchResources).toEqual({
      namespaceSelector: { matchLabels: { "jit.drawbridge.dev/enabled": "true" } },
    });
  });
});

describe("CRDs, PDB, metrics", () => {
  // Rendering fidelity against the chart's copy; test/unit/packaging/chart-crds-drift.test.ts keeps
  // that copy equal to crds/.
  test("renders the chart's CRD files unchanged but for labels and the keep annotation", () => {
    const rendered = defaults.filter((m) => m.kind === "CustomResourceDefinition");
    const files = readdirSync(join(chartDir(), "files", "crds")).filter((f) => f.endsWith(".yaml"));
    expect(rendered.map((c) => c.metadata.name).sort()).toEqual(
      files.map((f) => f.replace(/\.yaml$/, "")).sort(),
    );
    for (const crd of rendered) {
      const source = parse(
        readFileSync(join(chartDir(), "files", "crds", `${crd.metadata.name}.yaml`), "utf8"),
      ) as Manifest;
      expect(crd.metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
      expect({ ...crd, metadata: undefined }).toEqual({ ...source, metadata: undefined });
    }
  });

  test("crds.enabled=false drops the CRDs", () => {
    expect(custom.filter((m) => m.kind === "CustomResourceDefinition")).toEqual([]);
  });

  test("a PodDisruptionBudget keeps one operator pod", () => {
    const pdb = only(defaults, "PodDisruptionBudget") as Manifest & {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    expect(pdb.spec.minAvailable).toBe(1);
    const deploy = only(defaults, "Deployment") as Manifest & {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    expect(deploy.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
  });

  test("a metrics Service always, a ServiceMonitor only when enabled", () => {
    const svc = only(defaults, "Service") as Manifest & { spec: { ports: { targetPort: string }[] } };
    expect(svc.spec.ports[0]?.targetPort).toBe("metrics");
    expect(defaults.filter((m) => m.kind === "ServiceMonitor")).toEqual([]);
    const monitor = only(custom, "ServiceMonitor") as Manifest & { spec: { endpoints: { port: string }[] } };
    expect(monitor.spec.endpoints[0]?.port).toBe("metrics");
    expect(monitor.metadata.labels?.release).toBe("prometheus");
  });
});

describe("sweep CronJob", () => {
  const SUBSCRIPTION = "00000000-0000-0000-0000-000000000001";

  type CronJob = Manifest & {
    spec: {
      schedule: string;
      concurrencyPolicy: string;
      jobTemplate: {
        spec: {
          template: {
            metadata: { labels: Record<string, string> };
            spec: Record<string, unknown> & {
              serviceAccountName: string;
              automountServiceAccountToken: boolean;
            };
          };
        };
      };
    };
  };

  test("is off by default", () => {
    expect(defaults.filter((m) => m.kind === "CronJob")).toEqual([]);
  });

  test("when enabled: every 5 minutes, the operator's image, ServiceAccount and identity, restricted, no Kubernetes token", async () => {
    const manifests = await renderChart(helm, {
      values: {
        ...NON_DEFAULT_VALUES,
        operator: { ...NON_DEFAULT_VALUES.operator, instanceId: "blue" },
        sweep: { enabled: true, subscriptions: [SUBSCRIPTION] },
      },
    });
    const cron = only(manifests, "CronJob") as CronJob;
    expect(cron.spec.schedule).toBe("*/5 * * * *");
    expect(cron.spec.concurrencyPolicy).toBe("Forbid");
    const pod = cron.spec.jobTemplate.spec.template;
    const deploy = only(manifests, "Deployment") as Manifest & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: { spec: { containers: { image: string }[] } };
      };
    };
    expect(pod.spec.serviceAccountName).toBe(only(manifests, "ServiceAccount").metadata.name);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.metadata.labels["azure.workload.identity/use"]).toBe("true");
    // The operator's Service and PodDisruptionBudget must never select a sweep pod.
    const selector = deploy.spec.selector.matchLabels;
    expect(Object.entries(selector).every(([k, v]) => pod.metadata.labels[k] === v)).toBe(false);
    expect(pod.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const c = containerOf({ ...cron, spec: { template: pod } }) as ReturnType<typeof containerOf> & {
      image: string;
    };
    expect(c.image).toBe(deploy.spec.template.spec.containers[0]?.image);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    const args = c.args ?? [];
    expect(args[0]).toBe("sweep");
    expect(parseSweepConfig(args.slice(1), {})).toMatchObject({
      subscriptions: [SUBSCRIPTION],
      instanceId: "blue",
      graceMs: 60_000,
      armEndpoint: "https://arm.example.test",
      armCaFile: "/etc/drawbridge/arm-ca/bundle.pem",
      dryRun: false,
    });
  });

  test("refuses to be enabled without subscriptions or NSGs", async () => {
    const result = await helmTemplate(helm, { extraArgs: ["--set", "sweep.enabled=true"] });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("subscriptions");
  });
});

/** The one manifest of `kind` named `name`. */
function named(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name === name);
  expect(found.map((m) => m.metadata.name)).toEqual([name]);
  return found[0] as Manifest;
}
