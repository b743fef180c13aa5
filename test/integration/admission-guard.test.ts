// The operator's admission-guard check against the real API server: the chart's rendered
// requester policy and binding are found by their label and guard the namespaces they select; the
// verdict follows the binding when it is deleted or re-scoped, and agrees with what the API server
// itself enforces.
//
// Other tests share the control plane and may install the chart at the same time, so this file
// reads only objects carrying an extra per-run label, and scopes every binding to its own
// namespaces; the cluster-scoped objects are deleted afterwards.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { ensureHelm } from "../../src/helm/build.ts";
import { renderChart, type Manifest } from "../../src/helm/template.ts";
import { GUARD_LABEL, GUARD_LABEL_SELECTOR, decideGuard } from "../../src/operator/guard/guard.ts";
import type { GuardNamespace, GuardVerdict, LabelSelector } from "../../src/operator/guard/guard.ts";
import { readGuardObjects, readNamespaces } from "../../src/operator/guard/reader.ts";
import { AdmissionGuard } from "../../src/operator/guard/state.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { Metrics } from "../../src/runtime/metrics.ts";
import { aliceRbacYaml } from "../support/alice-rbac.ts";
import { testCluster, type TestCluster } from "../support/cluster.ts";
import { WORKLOAD_CLIENT_ID } from "./helm-support.ts";

// Rendering spawns helm and every step kubectl; on a loaded machine that takes seconds.
jest.setTimeout(60_000);

// A letter first: hex such as "12e345" would read back from the rendered chart as a YAML number.
const run = `r${randomBytes(3).toString("hex")}`;
const release = `drawbridge-gd${run}`;
const policyName = `${release}-requester-is-caller`;
const scopeLabel = "drawbridge.dev/guard-test";
const selector = `${GUARD_LABEL_SELECTOR},${scopeLabel}=${run}`;
const log = createLogger("silent");

let cluster: TestCluster;
let teamA = "";
let teamB = "";
let teamC = "";
let policy: Manifest | undefined;
let binding: Manifest | undefined;

function yamlOf(objects: Manifest[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join("");
}

/** `m` with the per-run label added, so only this file's reads see it. */
function tagged(m: Manifest): Manifest {
  return { ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, [scopeLabel]: run } } };
}

async function apply(objects: Manifest[]): Promise<void> {
  const r = await cluster.kubectl(["apply", "--server-side", "--field-manager=guard-test", "-f", "-"], {
    input: yamlOf(objects),
  });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
}

async function namespaces(): Promise<GuardNamespace[]> {
  return readNamespaces(cluster.kubeConfig("admin"), [teamA, teamB, teamC], log);
}

async function verdict(): Promise<GuardVerdict> {
  const read = await readGuardObjects(cluster.kubeConfig("admin"), { labelSelector: selector });
  if (!read.ok) throw new Error(read.message);
  return decideGuard({ policies: read.policies, bindings: read.bindings, namespaces: await namespaces() });
}

function guardedOf(v: GuardVerdict): Record<string, boolean> {
  return Object.fromEntries(v.namespaces.map((n) => [n.namespace, n.guarded]));
}

function forgedRequest(ns: string): string {
  return stringify({
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { generateName: "forged-", namespace: ns },
    spec: {
      policyName: "web-admin",
      ports: [22],
      sourceAddressPrefix: "203.0.113.7/32",
      duration: "PT1H",
      justification: "INC-4711 restart stuck service",
      requester: "bob",
    },
  });
}

/** Whether the API server rejects alice forging bob's name in `ns` (a dry run: nothing is created). */
async function serverDeniesForgery(ns: string): Promise<boolean> {
  const r = await cluster.kubectl(["create", "--dry-run=server", "-f", "-"], {
    as: "alice",
    input: forgedRequest(ns),
  });
  if (r.code === 0) return false;
  expect(r.stderr).toContain("spec.requester must equal");
  return true;
}

/** Admission policies take effect asynchronously: poll (bounded) until the server agrees. */
async function untilServer(ns: string, denies: boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await serverDeniesForgery(ns)) !== denies) {
    if (Date.now() > deadline)
      throw new Error(`the API server never ${denies ? "denied" : "allowed"} in ${ns}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function scopedNamespace(prefix: string): Promise<string> {
  const ns = await cluster.createNamespace(prefix);
  expect((await cluster.kubectl(["label", "namespace", ns, `${scopeLabel}=${run}`])).code).toBe(0);
  expect((await cluster.kubectl(["apply", "-f", "-"], { input: aliceRbacYaml(ns) })).code).toBe(0);
  return ns;
}

beforeAll(async () => {
  cluster = testCluster();
  teamA = await scopedNamespace("team-a");
  teamB = await scopedNamespace("team-b");
  teamC = await scopedNamespace("team-c");
  const helm = await ensureHelm({ env: process.env });
  const manifests = await renderChart(helm, {
    releaseName: release,
    namespace: "drawbridge-system",
    values: {
      crds: { enabled: false },
      azure: { workloadIdentity: { clientId: WORKLOAD_CLIENT_ID } },
      admissionPolicy: { namespaceSelector: { matchLabels: { [scopeLabel]: run } } },
    },
  });
  // The requester pair only: the chart renders other admission policies too.
  const requester = (m: Manifest): boolean => m.metadata.name === policyName;
  policy = manifests.find((m) => m.kind === "ValidatingAdmissionPolicy" && requester(m));
  binding = manifests.find((m) => m.kind === "ValidatingAdmissionPolicyBinding" && requester(m));
  if (policy === undefined || binding === undefined) throw new Error("the chart renders no admission policy");
  await apply([tagged(policy), tagged(binding)]);
}, 1_800_000);

afterAll(async () => {
  // Cluster-scoped: they would outlive the file. The namespaces go with the plane.
  const r = await cluster.kubectl([
    "delete",
    "--ignore-not-found",
    "--wait=false",
    "validatingadmissionpolicybindings,validatingadmissionpolicies",
    "-l",
    `${scopeLabel}=${run}`,
  ]);
  expect(r.stderr).toBe("");
}, 60_000);

describe("admission guard on a real API server", () => {
  test("the chart labels its policy and binding, which guard every namespace they select", async () => {
    expect(policy?.metadata.labels?.[GUARD_LABEL]).toBe("requester");
    expect(binding?.metadata.labels?.[GUARD_LABEL]).toBe("requester");
    const read = await readGuardObjects(cluster.kubeConfig("admin"), { labelSelector: selector });
    expect(read.ok && read.policies.map((p) => p.metadata?.name)).toEqual([policyName]);
    expect(read.ok && read.bindings.map((b) => b.metadata?.name)).toEqual([policyName]);

    const v = await verdict();
    expect(guardedOf(v)).toEqual({ [teamA]: true, [teamB]: true, [teamC]: true });
    expect(v.namespaces[0]).toEqual({
      namespace: teamA,
      guarded: true,
      policy: policyName,
      binding: policyName,
    });

    const metrics = new Metrics({ processMetrics: false });
    const guard = AdmissionGuard.forKubeConfig(cluster.kubeConfig("admin"), {
      log,
      metrics,
      allowUnguarded: false,
      reader: { labelSelector: selector },
    });
    await guard.refresh(await namespaces());
    expect(guard.isGuarded(teamA)).toEqual({ ok: true });
    expect(guard.unguardedCount).toBe(0);
    expect(await metrics.render()).toContain("drawbridge_admission_guard_unguarded_namespaces 0");
    // The decision agrees with the API server's.
    await untilServer(teamA, true);
  });

  test("without the binding, no namespace is guarded, and the reason says what is missing", async () => {
    const r = await cluster.kubectl(["delete", "validatingadmissionpolicybinding", policyName]);
    expect(r.code).toBe(0);
    const v = await verdict();
    expect(guardedOf(v)).toEqual({ [teamA]: false, [teamB]: false, [teamC]: false });
    for (const n of v.namespaces) {
      expect(n).toMatchObject({ guarded: false, check: "bindingExists" });
      expect(!n.guarded && n.message).toContain(
        `no ValidatingAdmissionPolicyBinding labelled ${GUARD_LABEL_SELECTOR} has policyName ${policyName}`,
      );
    }
    const guard = AdmissionGuard.forKubeConfig(cluster.kubeConfig("admin"), {
      log,
      allowUnguarded: false,
      reader: { labelSelector: selector },
    });
    await guard.refresh(await namespaces());
    expect(guard.isGuarded(teamB)).toMatchObject({ ok: false, reason: "AdmissionGuardMissing" });
    await untilServer(teamA, false);
  });

  test("a binding whose namespaceSelector leaves out one namespace guards only the others", async () => {
    if (binding === undefined) throw new Error("no binding rendered");
    const namespaceSelector: LabelSelector = {
      matchExpressions: [
        { key: scopeLabel, operator: "In", values: [run] },
        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: [teamC] },
      ],
    };
    const narrowed = tagged(binding);
    narrowed.spec = { ...(binding.spec as object), matchResources: { namespaceSelector } };
    await apply([narrowed]);
    const v = await verdict();
    expect(guardedOf(v)).toEqual({ [teamA]: true, [teamB]: true, [teamC]: false });
    const c = v.namespaces.find((n) => n.namespace === teamC);
    expect(c).toMatchObject({ guarded: false, check: "bindingSelectsNamespace" });
    expect(c !== undefined && !c.guarded && c.message).toContain(
      `binding ${policyName}'s namespaceSelector does not select namespace ${teamC}`,
    );
    // The API server evaluates the same selector the same way.
    await untilServer(teamB, true);
    await untilServer(teamC, false);
  });

  test("an operator that may not read the policies is told which permission is missing", async () => {
    const read = await readGuardObjects(cluster.kubeConfig("alice"), { labelSelector: selector });
    expect(read).toMatchObject({ ok: false, kind: "forbidden", error: { code: 403, reason: "Forbidden" } });
    expect(!read.ok && read.message).toContain(
      "the operator may not list validatingadmissionpolicies.admissionregistration.k8s.io",
    );
    expect(!read.ok && read.message).toContain("grant its service account get, list and watch");
    // Without namespace access the labels are unknown; namespaceSelectors cannot be evaluated.
    const unread = await readNamespaces(cluster.kubeConfig("alice"), [teamA], log);
    expect(unread).toEqual([{ name: teamA, labels: undefined }]);
  });
});
