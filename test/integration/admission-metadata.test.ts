// The chart's metadata and per-policy admission checks against the real API server, attacked as a
// tenant would: bob, who may patch requests in the namespace, tries to strip the finalizer that makes
// the operator revoke a grant, and to hand alice's request to the garbage collector with an
// ownerReference to an object that does not exist; alice asks for access under a policy she was
// never given. Only the operator's identities may change the finalizer, on live and on deleting
// objects alike; a new AccessRequest alone may carry it from its creation.
//
// Two renderings of the chart, each scoped by admissionPolicy.namespaceSelector to this file's
// labelled namespaces so other tests sharing the plane are unaffected: "strict" (the defaults, plus
// an operator identity outside the cluster) and "open" (requirePolicyUse=false, and a requester role
// without "use"). Only the admission objects and people's roles are applied, the scope policy
// excepted (no operator publishes a scope index here, so it would refuse every JitPolicy); every
// cluster-scoped object is deleted afterwards.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { randomBytes, randomUUID } from "node:crypto";
import { stringify } from "yaml";
import { FINALIZER } from "../../src/api/types.ts";
import { ensureHelm } from "../../src/helm/build.ts";
import { renderChart, type Manifest } from "../../src/helm/template.ts";
import { testCluster, type KubectlResult, type TestCluster } from "../support/cluster.ts";
import { WORKLOAD_CLIENT_ID } from "./helm-support.ts";

// Every step spawns kubectl; on a loaded machine that takes seconds.
jest.setTimeout(60_000);

// A letter first: hex such as "12e345" would read back from the rendered chart as a YAML number.
const run = `r${randomBytes(3).toString("hex")}`;
const strict = `drawbridge-md${run}`;
const open = `drawbridge-mo${run}`;
const releaseNs = "drawbridge-system";
const operatorSa = `system:serviceaccount:${releaseNs}:${strict}`;
const outsideOperator = `drawbridge-outside-${run}`;
const scopeLabel = "drawbridge.dev/metadata-test";
const GUARD = "jit.drawbridge.dev/guard";
const GROUP = "jit.drawbridge.dev";

let cluster: TestCluster;
let teamNs = "";
let openNs = "";
let applied: Manifest[] = [];

function yamlOf(objects: unknown[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join("");
}

function request(ns: string, requester: string, policyName = "web-admin", metadata = {}): string {
  return stringify({
    apiVersion: `${GROUP}/v1alpha1`,
    kind: "AccessRequest",
    metadata: { generateName: `${requester}-`, namespace: ns, ...metadata },
    spec: {
      policyName,
      ports: [22],
      sourceAddressPrefix: "203.0.113.7/32",
      duration: "PT1H",
      justification: "INC-4711 restart stuck service",
      requester,
    },
  });
}

function policy(ns: string, name: string, metadata = {}): string {
  return stringify({
    apiVersion: `${GROUP}/v1alpha1`,
    kind: "JitPolicy",
    metadata: { name, namespace: ns, ...metadata },
    spec: {
      targets: [
        {
          virtualMachineId:
            "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/web-1",
        },
      ],
      ports: [{ number: 22, protocol: "TCP", maxDuration: "PT3H" }],
      priorityRange: { from: 100, to: 199 },
    },
  });
}

/** An ownerReference to a ConfigMap that never existed: the garbage collector would delete at once. */
function missingOwner(): Record<string, unknown> {
  return { apiVersion: "v1", kind: "ConfigMap", name: `gone-${run}`, uid: randomUUID() };
}

/** kubectl as admin impersonating `user` (the admission policies see the impersonated name). */
function asUser(user: string, args: string[]): Promise<KubectlResult> {
  return cluster.kubectl([`--as=${user}`, ...args]);
}

async function ok(args: string[], opts: { as?: string; input?: string } = {}): Promise<string> {
  const r = await cluster.kubectl(args, opts);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

function mergePatch(ns: string, name: string, patch: unknown): string[] {
  return ["-n", ns, "patch", name, "--type=merge", "-p", JSON.stringify(patch)];
}

function setFinalizers(ns: string, name: string, finalizers: string[]): string[] {
  return mergePatch(ns, name, { metadata: { finalizers } });
}

async function finalizersOf(ns: string, name: string): Promise<string[]> {
  const out = await ok(["-n", ns, "get", name, "-o", "jsonpath={.metadata.finalizers}"]);
  return out === "" ? [] : (JSON.parse(out) as string[]);
}

/** alice creates a request (she may use every policy in teamNs) and the operator adds its finalizer. */
async function finalizedRequest(): Promise<string> {
  const name = (
    await ok(["create", "-o", "name", "-f", "-"], { as: "alice", input: request(teamNs, "alice") })
  ).trim();
  const added = await asUser(operatorSa, setFinalizers(teamNs, name, [FINALIZER]));
  expect(added.stderr).toBe("");
  expect(await finalizersOf(teamNs, name)).toEqual([FINALIZER]);
  return name;
}

/** Admission bindings take effect asynchronously: poll (bounded) until `probe` is refused with `text`. */
async function untilRefused(what: string, probe: () => Promise<KubectlResult>, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await probe();
    if (r.code !== 0 && r.stderr.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`${what} never took effect: ${r.code} ${r.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function scopedNamespace(prefix: string, value: string): Promise<string> {
  const ns = await cluster.createNamespace(prefix);
  await ok(["label", "namespace", ns, `${scopeLabel}=${value}`]);
  return ns;
}

function rolebinding(ns: string, name: string, role: string, subject: string): string[] {
  return ["-n", ns, "create", "rolebinding", name, role, subject];
}

beforeAll(async () => {
  cluster = testCluster();
  const helm = await ensureHelm({ env: process.env });
  teamNs = await scopedNamespace("team-a", run);
  openNs = await scopedNamespace("team-open", `${run}-open`);
  const common = { crds: { enabled: false }, azure: { workloadIdentity: { clientId: WORKLOAD_CLIENT_ID } } };
  const strictManifests = await renderChart(helm, {
    releaseName: strict,
    namespace: releaseNs,
    values: {
      ...common,
      admissionPolicy: {
        namespaceSelector: { matchLabels: { [scopeLabel]: run } },
        operatorUsernames: [outsideOperator],
      },
    },
  });
  const openManifests = await renderChart(helm, {
    releaseName: open,
    namespace: releaseNs,
    values: {
      ...common,
      rbac: { requesterMayUseAnyPolicy: false },
      admissionPolicy: {
        namespaceSelector: { matchLabels: { [scopeLabel]: `${run}-open` } },
        requirePolicyUse: false,
      },
    },
  });
  const admission = (m: Manifest, guards: string[]): boolean =>
    m.kind.startsWith("ValidatingAdmissionPolicy") && guards.includes(m.metadata.labels?.[GUARD] ?? "");
  const role = (m: Manifest, names: string[]): boolean =>
    m.kind === "ClusterRole" && names.includes(m.metadata.name);
  applied = [
    ...strictManifests.filter(
      (m) =>
        admission(m, ["requester", "metadata"]) || role(m, [`${strict}-requester`, `${strict}-policy-admin`]),
    ),
    ...openManifests.filter((m) => admission(m, ["requester"]) || role(m, [`${open}-requester`])),
  ];
  expect(applied.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(
    [
      `ClusterRole/${open}-requester`,
      `ClusterRole/${strict}-policy-admin`,
      `ClusterRole/${strict}-requester`,
      `ValidatingAdmissionPolicy/${open}-requester-is-caller`,
      `ValidatingAdmissionPolicy/${strict}-lifecycle-is-operators`,
      `ValidatingAdmissionPolicy/${strict}-requester-is-caller`,
      `ValidatingAdmissionPolicyBinding/${open}-requester-is-caller`,
      `ValidatingAdmissionPolicyBinding/${strict}-lifecycle-is-operators`,
      `ValidatingAdmissionPolicyBinding/${strict}-requester-is-caller`,
    ].sort(),
  );
  await ok(["apply", "--server-side", "--field-manager=metadata-test", "-f", "-"], {
    input: yamlOf(applied),
  });

  // team-a: alice and bob are requesters (the chart's role: "use" on every policy); bob also
  // administers policies; carol may edit policies but not delete them. The operator's identities may
  // write what the operator writes.
  await ok(rolebinding(teamNs, "alice-jit", `--clusterrole=${strict}-requester`, "--user=alice"));
  await ok(rolebinding(teamNs, "bob-jit", `--clusterrole=${strict}-requester`, "--user=bob"));
  await ok(rolebinding(teamNs, "bob-admin", `--clusterrole=${strict}-policy-admin`, "--user=bob"));
  await ok([
    "-n",
    teamNs,
    "create",
    "role",
    "policy-editor",
    "--verb=get,update,patch",
    `--resource=jitpolicies.${GROUP}`,
  ]);
  await ok(rolebinding(teamNs, "carol-editor", "--role=policy-editor", "--user=carol"));
  await ok([
    "-n",
    teamNs,
    "create",
    "role",
    "operator-writes",
    "--verb=get,update,patch",
    `--resource=jitpolicies.${GROUP},accessrequests.${GROUP}`,
  ]);
  await ok(
    rolebinding(teamNs, "operator-sa", "--role=operator-writes", `--serviceaccount=${releaseNs}:${strict}`),
  );
  await ok(rolebinding(teamNs, "operator-outside", "--role=operator-writes", `--user=${outsideOperator}`));
  // The open namespace: alice holds a requester role without "use", and nothing else.
  await ok(rolebinding(openNs, "alice-jit", `--clusterrole=${open}-requester`, "--user=alice"));

  const dryRun = ["create", "--dry-run=server", "-f", "-"];
  await untilRefused(
    "the metadata policy",
    () =>
      cluster.kubectl(dryRun, {
        as: "alice",
        input: request(teamNs, "alice", "web-admin", { ownerReferences: [missingOwner()] }),
      }),
    "metadata.ownerReferences",
  );
  await untilRefused(
    "the requester policy (strict)",
    () => cluster.kubectl(dryRun, { as: "alice", input: request(teamNs, "bob") }),
    "spec.requester must equal",
  );
  await untilRefused(
    "the requester policy (open)",
    () => cluster.kubectl(dryRun, { as: "alice", input: request(openNs, "bob") }),
    "spec.requester must equal",
  );
}, 1_800_000);

afterAll(async () => {
  // Cluster-scoped objects would outlive the file and, for the admission policies, affect other
  // tests; namespaced ones stay with their namespaces.
  if (applied.length > 0) {
    const r = await cluster.kubectl(["delete", "--ignore-not-found", "--wait=false", "-f", "-"], {
      input: yamlOf(applied),
    });
    expect(r.stderr).toBe("");
  }
}, 60_000);

describe("drawbridge's finalizer belongs to the operator", () => {
  test("bob, who may patch requests, cannot strip the finalizer from alice's request", async () => {
    const name = await finalizedRequest();
    const merge = await cluster.kubectl(setFinalizers(teamNs, name, []), { as: "bob" });
    expect(merge.code).not.toBe(0);
    expect(merge.stderr).toContain(
      `metadata.finalizers: only the drawbridge operator may remove the finalizer ${FINALIZER}`,
    );
    expect(merge.stderr).toContain('not "bob"');
    expect(merge.stderr).toContain(`${strict}-lifecycle-is-operators`);
    const json = await cluster.kubectl(
      ["-n", teamNs, "patch", name, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]'],
      { as: "bob" },
    );
    expect(json.code).not.toBe(0);
    expect(json.stderr).toContain("only the drawbridge operator may remove the finalizer");
    expect(await finalizersOf(teamNs, name)).toEqual([FINALIZER]);
  });

  test("other finalizers, labels and annotations stay editable", async () => {
    const name = await finalizedRequest();
    await ok(setFinalizers(teamNs, name, [FINALIZER, "example.com/hold"]), { as: "bob" });
    expect(await finalizersOf(teamNs, name)).toEqual([FINALIZER, "example.com/hold"]);
    await ok(setFinalizers(teamNs, name, [FINALIZER]), { as: "bob" });
    await ok(["-n", teamNs, "label", name, "seen-by=bob"], { as: "bob" });
    await ok(["-n", teamNs, "annotate", name, "note=checked"], { as: "alice" });
    expect(await finalizersOf(teamNs, name)).toEqual([FINALIZER]);
  });

  test("a request may carry it from its creation, as the CLI creates requests (ADR 0022)", async () => {
    const name = (
      await ok(["create", "-o", "name", "-f", "-"], {
        as: "alice",
        input: request(teamNs, "alice", "web-admin", { finalizers: [FINALIZER] }),
      })
    ).trim();
    expect(await finalizersOf(teamNs, name)).toEqual([FINALIZER]);
    // Carried from creation or added by the operator, it is held the same way afterwards.
    const strip = await cluster.kubectl(setFinalizers(teamNs, name, []), { as: "alice" });
    expect(strip.stderr).toContain(`only the drawbridge operator may remove the finalizer ${FINALIZER}`);
    expect(await finalizersOf(teamNs, name)).toEqual([FINALIZER]);
  });

  test("nobody but the operator adds it to a request that exists, not a cluster admin either", async () => {
    const name = (
      await ok(["create", "-o", "name", "-f", "-"], { as: "alice", input: request(teamNs, "alice") })
    ).trim();
    const byAlice = await cluster.kubectl(setFinalizers(teamNs, name, [FINALIZER]), { as: "alice" });
    expect(byAlice.stderr).toContain(
      `only the drawbridge operator may add the finalizer ${FINALIZER} (it makes the operator`,
    );
    expect(byAlice.stderr).toContain("(a new AccessRequest may carry it from its creation)");
    const byAdmin = await cluster.kubectl(setFinalizers(teamNs, name, [FINALIZER]));
    expect(byAdmin.stderr).toContain(
      "may add the finalizer jit.drawbridge.dev/finalizer (it makes the operator",
    );
    expect(await finalizersOf(teamNs, name)).toEqual([]);
  });

  test("the operator's identities add and remove it, also while the request is being deleted", async () => {
    const name = await finalizedRequest();
    // Deleting is fine for whoever may delete (here the admin): the finalizer holds the object
    // until the operator has revoked the grant.
    await ok(["-n", teamNs, "delete", name, "--wait=false"]);
    const deleting = await ok(["-n", teamNs, "get", name, "-o", "jsonpath={.metadata.deletionTimestamp}"]);
    expect(deleting).not.toBe("");
    // Stripping it now would skip the revoke: refused for bob and for a cluster admin alike.
    const byBob = await cluster.kubectl(setFinalizers(teamNs, name, []), { as: "bob" });
    expect(byBob.stderr).toContain("only the drawbridge operator may remove the finalizer");
    const byAdmin = await cluster.kubectl(setFinalizers(teamNs, name, []));
    expect(byAdmin.stderr).toContain("only the drawbridge operator may remove the finalizer");
    // The operator run outside the cluster (admissionPolicy.operatorUsernames) finishes the deletion.
    const done = await asUser(outsideOperator, setFinalizers(teamNs, name, []));
    expect(done.stderr).toBe("");
    expect(done.code).toBe(0);
    const gone = await cluster.kubectl(["-n", teamNs, "get", name]);
    expect(gone.stderr).toContain("NotFound");
    // And the in-cluster ServiceAccount removes it from a live request.
    const other = await finalizedRequest();
    await ok(["--as", operatorSa, ...setFinalizers(teamNs, other, [])]);
    expect(await finalizersOf(teamNs, other)).toEqual([]);
  });

  test("the /status subresource cannot change metadata, so it needs no admission check", async () => {
    const name = await finalizedRequest();
    const r = await cluster.kubectl([
      ...mergePatch(teamNs, name, { metadata: { finalizers: [] }, status: { phase: "Pending" } }),
      "--subresource=status",
    ]);
    expect(r.code).toBe(0);
    expect(await finalizersOf(teamNs, name)).toEqual([FINALIZER]);
  });

  test("a policy admin cannot strip a JitPolicy's finalizer (its rules would stay in the NSGs)", async () => {
    const name = `web-${run}`;
    const withFinalizer = await cluster.kubectl(["create", "-f", "-"], {
      as: "bob",
      input: policy(teamNs, name, { finalizers: [FINALIZER] }),
    });
    expect(withFinalizer.stderr).toContain("only the drawbridge operator may add the finalizer");
    // The exception at creation is the AccessRequest's alone.
    expect(withFinalizer.stderr).not.toContain("may carry it from its creation");
    await ok(["create", "-f", "-"], { as: "bob", input: policy(teamNs, name) });
    await ok(["--as", operatorSa, ...setFinalizers(teamNs, `jitpolicy/${name}`, [FINALIZER])]);
    const strip = await cluster.kubectl(setFinalizers(teamNs, `jitpolicy/${name}`, []), { as: "bob" });
    expect(strip.code).not.toBe(0);
    expect(strip.stderr).toContain("only the drawbridge operator may remove the finalizer");
    expect(strip.stderr).toContain("before the JitPolicy goes");
    expect(await finalizersOf(teamNs, `jitpolicy/${name}`)).toEqual([FINALIZER]);
  });
});

describe("ownerReferences", () => {
  test("bob cannot hand alice's request to the garbage collector", async () => {
    const name = await finalizedRequest();
    const r = await cluster.kubectl(
      mergePatch(teamNs, name, { metadata: { ownerReferences: [missingOwner()] } }),
      {
        as: "bob",
      },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `metadata.ownerReferences: an AccessRequest may not have an owner (ConfigMap/gone-${run}); the garbage collector would delete it`,
    );
    const owners = await ok(["-n", teamNs, "get", name, "-o", "jsonpath={.metadata.ownerReferences}"]);
    expect(owners).toBe("");
    // Not a cluster admin either, and not on create.
    const byAdmin = await cluster.kubectl(
      mergePatch(teamNs, name, { metadata: { ownerReferences: [missingOwner()] } }),
    );
    expect(byAdmin.stderr).toContain("an AccessRequest may not have an owner");
    const onCreate = await cluster.kubectl(["create", "-f", "-"], {
      as: "alice",
      input: request(teamNs, "alice", "web-admin", { ownerReferences: [missingOwner()] }),
    });
    expect(onCreate.code).not.toBe(0);
    expect(onCreate.stderr).toContain("an AccessRequest may not have an owner");
  });

  test("a JitPolicy owner needs permission to delete the policy", async () => {
    const name = `db-${run}`;
    await ok(["create", "-f", "-"], { as: "bob", input: policy(teamNs, name) });
    const owned = mergePatch(teamNs, `jitpolicy/${name}`, {
      metadata: { ownerReferences: [missingOwner()] },
    });
    // carol may edit the policy but not delete it: an owner would let the garbage collector do it.
    const byCarol = await asUser("carol", owned);
    expect(byCarol.code).not.toBe(0);
    expect(byCarol.stderr).toContain(
      `an owner (ConfigMap/gone-${run}) lets the garbage collector delete JitPolicy ${name}, so it needs permission to delete it, which "carol" lacks`,
    );
    // bob, a policy admin, may delete it anyway, so he may give it an owner.
    await ok(owned, { as: "bob" });
    // An edit that keeps the owner is not adding one.
    const edited = await asUser("carol", ["-n", teamNs, "label", `jitpolicy/${name}`, "edited-by=carol"]);
    expect(edited.stderr).toBe("");
    expect(edited.code).toBe(0);
    // Nor is dropping it.
    await ok([
      "-n",
      teamNs,
      "patch",
      `jitpolicy/${name}`,
      "--type=json",
      "-p",
      '[{"op":"remove","path":"/metadata/ownerReferences"}]',
      "--as=carol",
    ]);
  });
});

describe("per-policy permission (verb use on jitpolicies)", () => {
  test("alice, without use on the policy, cannot request access under it", async () => {
    const ns = await scopedNamespace("team-use", run);
    await ok(rolebinding(ns, "alice-jit", `--clusterrole=${open}-requester`, "--user=alice"));
    const refused = await cluster.kubectl(["create", "-f", "-"], {
      as: "alice",
      input: request(ns, "alice"),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `"alice" may not use JitPolicy "web-admin" in namespace ${ns}: a request needs the verb "use" on jitpolicies.jit.drawbridge.dev "web-admin"`,
    );
    expect(refused.stderr).toContain(`${strict}-requester-is-caller`);

    // A Role naming the policy grants it, and only it. (kubectl create role refuses the verb "use"
    // outside podsecuritypolicies, so platform teams write the Role as YAML.)
    const useRole = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "use-web-admin", namespace: ns },
      rules: [
        { apiGroups: [GROUP], resources: ["jitpolicies"], resourceNames: ["web-admin"], verbs: ["use"] },
      ],
    };
    await ok(["apply", "-f", "-"], { input: stringify(useRole) });
    await ok(rolebinding(ns, "alice-web-admin", "--role=use-web-admin", "--user=alice"));
    const created = await cluster.kubectl(["create", "-o", "name", "-f", "-"], {
      as: "alice",
      input: request(ns, "alice"),
    });
    expect(created.stderr).toBe("");
    expect(created.stdout).toMatch(/^accessrequest\.jit\.drawbridge\.dev\/alice-/);
    const other = await cluster.kubectl(["create", "-f", "-"], {
      as: "alice",
      input: request(ns, "alice", "db-admin"),
    });
    expect(other.stderr).toContain('may not use JitPolicy "db-admin"');
  });

  test("the chart's requester role grants use on every policy of the namespace", async () => {
    for (const policyName of ["web-admin", "db-admin"]) {
      await ok(["create", "-f", "-"], { as: "alice", input: request(teamNs, "alice", policyName) });
    }
  });

  test("with requirePolicyUse=false the same requester role suffices", async () => {
    const r = await cluster.kubectl(["create", "-o", "name", "-f", "-"], {
      as: "alice",
      input: request(openNs, "alice"),
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
