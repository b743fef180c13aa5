// The chart against the real control plane: every rendered object passes a server-side dry run
// and then applies for real (no pods run: there is no scheduler or kubelet), the operator's RBAC
// allows exactly what it needs, and the requester admission policy is exercised as alice.
//
// The admission policy binding is cluster-wide by default; here it is scoped with
// admissionPolicy.namespaceSelector to this file's namespaces, so other tests sharing the control
// plane are unaffected, and every cluster-scoped object is deleted afterwards.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { ensureHelm } from "../../src/helm/build.ts";
import { renderChart, type Manifest } from "../../src/helm/template.ts";
import { testCluster, type TestCluster } from "../support/cluster.ts";
import { WORKLOAD_CLIENT_ID } from "./helm-support.ts";

// Every step spawns helm or kubectl; on a loaded machine that takes seconds, not milliseconds.
jest.setTimeout(60_000);

// A letter first: hex such as "12e345" would read back from the rendered chart as a YAML number.
const run = `r${randomBytes(3).toString("hex")}`;
const release = `drawbridge-it${run}`;
const scopeLabel = "drawbridge.dev/packaging-test";
let cluster: TestCluster;
let releaseNs = "";
let teamNs = "";
let otherNs = "";
let manifests: Manifest[] = [];

function values(crds: boolean): Record<string, unknown> {
  return {
    crds: { enabled: crds },
    azure: { workloadIdentity: { clientId: WORKLOAD_CLIENT_ID } },
    admissionPolicy: { namespaceSelector: { matchLabels: { [scopeLabel]: run } } },
  };
}

function yamlOf(objects: Manifest[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join("");
}

function request(ns: string, requester: string): string {
  return stringify({
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { generateName: `${requester}-`, namespace: ns },
    spec: {
      policyName: "web-admin",
      ports: [22],
      sourceAddressPrefix: "203.0.113.7/32",
      duration: "PT1H",
      justification: "INC-4711 restart stuck service",
      requester,
    },
  });
}

async function scopedNamespace(prefix: string): Promise<string> {
  const ns = await cluster.createNamespace(prefix);
  const labelled = await cluster.kubectl(["label", "namespace", ns, `${scopeLabel}=${run}`]);
  expect(labelled.stderr).toBe("");
  return ns;
}

beforeAll(async () => {
  cluster = testCluster();
  const helm = await ensureHelm({ env: process.env });
  releaseNs = await cluster.createNamespace("drawbridge-system");
  // Pod Security admission checks every pod template against "restricted" and warns on violations.
  const pss = ["enforce", "warn"].map((mode) => `pod-security.kubernetes.io/${mode}=restricted`);
  expect((await cluster.kubectl(["label", "namespace", releaseNs, ...pss])).code).toBe(0);
  teamNs = await scopedNamespace("team-a");
  otherNs = await scopedNamespace("team-b");
  manifests = await renderChart(helm, { releaseName: release, namespace: releaseNs, values: values(true) });
}, 1_800_000);

afterAll(async () => {
  // Namespaced objects stay with their namespaces (never deleted in this plane); cluster-scoped
  // ones would outlive the file and, for the admission policy, affect other tests.
  const clusterScoped = manifests.filter(
    (m) => m.metadata.namespace === undefined && m.kind !== "CustomResourceDefinition",
  );
  if (clusterScoped.length > 0) {
    await cluster.kubectl(["delete", "--ignore-not-found", "--wait=false", "-f", "-"], {
      input: yamlOf(clusterScoped),
    });
  }
}, 60_000);

describe("chart on a real API server", () => {
  test("every rendered object, CRDs included, passes a server-side dry run", async () => {
    expect(manifests.filter((m) => m.kind === "CustomResourceDefinition")).toHaveLength(6);
    const result = await cluster.kubectl(
      // The test setup installed the CRDs under another field manager; a dry run may take them over.
      [
        "apply",
        "--server-side",
        "--field-manager=helm-test",
        "--force-conflicts",
        "--dry-run=server",
        "-f",
        "-",
      ],
      { input: yamlOf(manifests) },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n").filter((l) => l.includes("serverside-applied"))).toHaveLength(
      manifests.length,
    );
  });

  test("applies for real (the CRDs are already installed by the test setup)", async () => {
    const objects = manifests.filter((m) => m.kind !== "CustomResourceDefinition");
    const result = await cluster.kubectl(["apply", "--server-side", "--field-manager=helm-test", "-f", "-"], {
      input: yamlOf(objects),
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const deploy = await cluster.kubectl(["-n", releaseNs, "get", "deployment", release, "-o", "json"]);
    const spec = (JSON.parse(deploy.stdout) as { spec: { replicas: number } }).spec;
    expect(spec.replicas).toBe(2);
  });

  test("the pod template meets Pod Security restricted (and the check is live)", async () => {
    const deploy = manifests.find((m) => m.kind === "Deployment") as Manifest;
    const dryRun = ["apply", "--server-side", "--field-manager=helm-test", "--dry-run=server", "-f", "-"];
    const clean = await cluster.kubectl(dryRun, { input: yamlOf([deploy]) });
    expect(clean.stderr).toBe("");
    const weakened = structuredClone(deploy) as Manifest & {
      spec: { template: { spec: { containers: { securityContext: Record<string, unknown> }[] } } };
    };
    const container = weakened.spec.template.spec.containers[0];
    if (container !== undefined) container.securityContext.allowPrivilegeEscalation = true;
    const warned = await cluster.kubectl(dryRun, { input: yamlOf([weakened]) });
    expect(warned.stderr).toContain(
      'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation',
    );
  });

  test("the operator's service account may do its job and nothing more", async () => {
    const sa = `system:serviceaccount:${releaseNs}:${release}`;
    const can = async (args: string[]): Promise<string> => {
      const r = await cluster.kubectl(["auth", "can-i", `--as=${sa}`, ...args]);
      return r.stdout.trim();
    };
    expect(await can(["watch", "jitpolicies.jit.drawbridge.dev", "--all-namespaces"])).toBe("yes");
    expect(
      await can(["patch", "accessrequests.jit.drawbridge.dev", "--subresource=status", "-n", teamNs]),
    ).toBe("yes");
    expect(await can(["delete", "accessrequests.jit.drawbridge.dev", "-n", teamNs])).toBe("yes");
    expect(await can(["create", "events", "-n", teamNs])).toBe("yes");
    expect(await can(["create", "leases.coordination.k8s.io", "-n", releaseNs])).toBe("yes");
    expect(await can(["update", "leases.coordination.k8s.io/drawbridge-leader", "-n", releaseNs])).toBe(
      "yes",
    );
    expect(await can(["update", "leases.coordination.k8s.io/other", "-n", releaseNs])).toBe("no");
    expect(await can(["create", "leases.coordination.k8s.io", "-n", teamNs])).toBe("no");
    expect(await can(["delete", "jitpolicies.jit.drawbridge.dev", "-n", teamNs])).toBe("no");
    expect(await can(["create", "accessrequests.jit.drawbridge.dev", "-n", teamNs])).toBe("no");
    expect(await can(["get", "secrets", "-n", releaseNs])).toBe("no");
  });
});

describe("requester admission policy, for real", () => {
  beforeAll(async () => {
    const bind = await cluster.kubectl([
      "-n",
      teamNs,
      "create",
      "rolebinding",
      "team-a-jit",
      `--clusterrole=${release}-requester`,
      "--group=team-a",
    ]);
    expect(bind.stderr).toBe("");
    const bindBob = await cluster.kubectl([
      "-n",
      teamNs,
      "create",
      "rolebinding",
      "team-b-jit",
      `--clusterrole=${release}-requester`,
      "--user=bob",
    ]);
    expect(bindBob.stderr).toBe("");
    // Bindings of admission policies take effect asynchronously: wait (bounded) until the
    // policy rejects a known-bad object; a dry run keeps the probes from creating anything.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const probe = await cluster.kubectl(["create", "--dry-run=server", "-f", "-"], {
        as: "alice",
        input: request(teamNs, "bob"),
      });
      if (probe.code !== 0 && probe.stderr.includes("spec.requester must equal")) return;
      if (Date.now() > deadline) throw new Error(`the admission policy never took effect: ${probe.stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 60_000);

  test("alice cannot create a request naming bob as requester", async () => {
    const r = await cluster.kubectl(["create", "-f", "-"], { as: "alice", input: request(teamNs, "bob") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.requester must equal your user name "alice"');
    expect(r.stderr).toContain(`${release}-requester-is-caller`);
  });

  test("alice can create a request naming herself in her namespace", async () => {
    const r = await cluster.kubectl(["create", "-o", "name", "-f", "-"], {
      as: "alice",
      input: request(teamNs, "alice"),
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^accessrequest\.jit\.drawbridge\.dev\/alice-/);
  });

  test("only the requester (or a policy admin) may revoke a request", async () => {
    const created = await cluster.kubectl(["create", "-o", "name", "-f", "-"], {
      as: "alice",
      input: request(teamNs, "alice"),
    });
    expect(created.code).toBe(0);
    const name = created.stdout.trim();
    const revoke = ["-n", teamNs, "patch", name, "--type=merge", "-p", '{"spec":{"revoked":true}}'];
    const label = ["-n", teamNs, "label", name, "seen-by=bob"];
    // bob may patch requests in the namespace (RBAC), but not revoke alice's.
    const byBob = await cluster.kubectl(revoke, { as: "bob" });
    expect(byBob.code).not.toBe(0);
    expect(byBob.stderr).toContain('only the requester "alice" or a policy admin of this namespace');
    expect((await cluster.kubectl(label, { as: "bob" })).code).toBe(0);
    const byAlice = await cluster.kubectl(revoke, { as: "alice" });
    expect(byAlice.stderr).toBe("");
    const revoked = await cluster.kubectl(["-n", teamNs, "get", name, "-o", "jsonpath={.spec.revoked}"]);
    expect(revoked.stdout).toBe("true");
  });

  test("a policy admin may revoke anyone's request", async () => {
    const created = await cluster.kubectl(["create", "-o", "name", "-f", "-"], {
      as: "alice",
      input: request(teamNs, "alice"),
    });
    expect(created.code).toBe(0);
    const revoke = [
      "-n",
      teamNs,
      "patch",
      created.stdout.trim(),
      "--type=merge",
      "-p",
      '{"spec":{"revoked":true}}',
    ];
    const byAdmin = await cluster.kubectl(revoke, { as: "admin" });
    expect(byAdmin.stderr).toBe("");
    expect(byAdmin.code).toBe(0);
  });

  test("alice cannot create a request in a namespace where RBAC gives her nothing", async () => {
    const r = await cluster.kubectl(["create", "-f", "-"], { as: "alice", input: request(otherNs, "alice") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('cannot create resource "accessrequests"');
  });

  test("not even a cluster admin can forge a requester", async () => {
    const r = await cluster.kubectl(["create", "-f", "-"], { as: "admin", input: request(teamNs, "alice") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.requester must equal your user name "admin"');
  });
});
