// The chart's RBAC is enough, and no more than enough, for the real operator: the operator runs
// with the flags the chart renders, authenticated as the chart's ServiceAccount (a TokenRequest
// token, so every call is authorized by the chart's Roles), against the ARM emulator. alice,
// bound to the chart's requester role, asks for access, revokes it, and a policy admin deletes the
// policy; the finalizers run and every managed rule is gone. Tenancy runs as installed: the
// platform admin's JitScope comes first, the operator publishes the scope index, and the chart's
// admission policy refuses a team-b policy on team-a's VM before anything reaches the operator.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { startEmulator, type RunningEmulator } from "../../src/emulator/index.ts";
import { ensureHelm } from "../../src/helm/build.ts";
import { renderChart, type Manifest } from "../../src/helm/template.ts";
import { eventually as poll } from "../support/poll.ts";
import { startOperatorProcess, type OperatorProcess } from "../support/operator-process.ts";
import { testCluster, type TestCluster } from "../support/cluster.ts";
import { scopeYaml } from "../support/scope.ts";
import { WORKLOAD_CLIENT_ID, containerOf, only } from "./helm-support.ts";

jest.setTimeout(120_000);

const root = fileURLToPath(new URL("../../", import.meta.url));
// A letter first: hex such as "12e345" would read back from the rendered chart as a YAML number.
const run = `r${randomBytes(3).toString("hex")}`;
const release = `drawbridge-op${run}`;
const scopeLabel = "drawbridge.dev/packaging-test";
const DEMO_RG = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg";
const NSGS = ["web-1-nic-nsg", "web-subnet-nsg", "jump-nsg"].map(
  (n) =>
    `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers/Microsoft.Network/networkSecurityGroups/${n}`,
);

let cluster: TestCluster;
let emulator: RunningEmulator | undefined;
let operator: OperatorProcess | undefined;
let tempDir = "";
let releaseNs = "";
let teamNs = "";
let teamBNs = "";
let manifests: Manifest[] = [];

type SecurityRule = {
  name: string;
  properties: { sourceAddressPrefixes?: string[]; sourceAddressPrefix?: string };
};

function managedRules(): SecurityRule[] {
  return NSGS.flatMap((id) => {
    const doc = emulator?.getNsgDocument(id) as
      { properties?: { securityRules?: SecurityRule[] } } | undefined;
    return (doc?.properties?.securityRules ?? []).filter((r) => r.name.startsWith("drawbridge-"));
  });
}

async function kubectlOk(args: string[], opts: { as?: string; input?: string } = {}): Promise<string> {
  const r = await cluster.kubectl(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  try {
    return await poll(what, probe, 90_000, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message}; operator output:\n${(operator?.logs() ?? "").slice(-4000)}`);
  }
}

/** A kubeconfig that authenticates as the chart's ServiceAccount with a bound token. */
async function serviceAccountKubeconfig(sa: string): Promise<string> {
  const token = (await kubectlOk(["-n", releaseNs, "create", "token", sa, "--duration=1h"])).trim();
  const admin = parse(readFileSync(cluster.adminKubeconfig, "utf8")) as { clusters: { name: string }[] };
  const clusterEntry = admin.clusters[0];
  const path = join(tempDir, "operator.kubeconfig");
  writeFileSync(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [clusterEntry],
      users: [{ name: sa, user: { token } }],
      contexts: [{ name: sa, context: { cluster: clusterEntry?.name, user: sa } }],
      "current-context": sa,
    }),
    { mode: 0o600 },
  );
  return path;
}

function examplePolicy(ns: string): Manifest {
  const policy = parse(readFileSync(join(root, "examples", "policy.yaml"), "utf8")) as Manifest;
  policy.metadata.namespace = ns;
  return policy;
}

function yamlOf(objects: unknown[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join("");
}

beforeAll(async () => {
  cluster = testCluster();
  tempDir = mkdtempSync(join(tmpdir(), "drawbridge-helm-operator-"));
  const helm = await ensureHelm({ env: process.env });
  releaseNs = await cluster.createNamespace("drawbridge-system");
  teamNs = await cluster.createNamespace("team-a");
  teamBNs = await cluster.createNamespace("team-b");
  for (const ns of [teamNs, teamBNs]) await kubectlOk(["label", "namespace", ns, `${scopeLabel}=${run}`]);
  // What a platform admin applies before the team's first policy: team-a may target demo-rg.
  await kubectlOk(["apply", "-f", "-"], {
    input: scopeYaml(`team-a-${run}`, [teamNs], [DEMO_RG], { priorityRange: { from: 100, to: 999 } }),
  });
  manifests = await renderChart(helm, {
    releaseName: release,
    namespace: releaseNs,
    values: {
      crds: { enabled: false },
      operator: { watchNamespace: teamNs, resyncInterval: "30s", logLevel: "debug" },
      azure: { workloadIdentity: { clientId: WORKLOAD_CLIENT_ID } },
      admissionPolicy: { namespaceSelector: { matchLabels: { [scopeLabel]: run } } },
    },
  });
  await kubectlOk(["apply", "--server-side", "--field-manager=helm-test", "-f", "-"], {
    input: yamlOf(manifests),
  });
  await kubectlOk([
    "-n",
    teamBNs,
    "create",
    "rolebinding",
    "bob-admin",
    `--clusterrole=${release}-policy-admin`,
    "--user=bob",
  ]);
  await kubectlOk([
    "-n",
    teamNs,
    "create",
    "rolebinding",
    "alice-jit",
    `--clusterrole=${release}-requester`,
    "--user=alice",
  ]);
  emulator = await startEmulator({
    seedFile: join(root, "examples", "seed.yaml"),
    throttle: false,
    recordWrites: true,
  });

  const sa = only(manifests, "ServiceAccount").metadata.name;
  const kubeconfig = await serviceAccountKubeconfig(sa);
  // The Deployment's own arguments; the appended flags only point it at this machine.
  const args = containerOf(only(manifests, "Deployment")).args ?? [];
  operator = startOperatorProcess([
    ...args,
    `--kubeconfig=${kubeconfig}`,
    `--arm-endpoint=${emulator.endpoint}`,
    `--arm-ca-file=${emulator.caFile}`,
    "--metrics-bind-address=127.0.0.1:0",
    "--health-probe-bind-address=127.0.0.1:0",
  ]);
}, 1_800_000);

afterAll(async () => {
  await operator?.stop();
  await emulator?.close();
  await cluster.kubectl(["delete", "jitscope", `team-a-${run}`, "--ignore-not-found", "--wait=false"]);
  const clusterScoped = manifests.filter((m) => m.metadata.namespace === undefined);
  if (clusterScoped.length > 0) {
    await cluster.kubectl(["delete", "--ignore-not-found", "--wait=false", "-f", "-"], {
      input: yamlOf(clusterScoped),
    });
  }
  rmSync(tempDir, { recursive: true, force: true });
}, 60_000);

describe("the operator under the chart's RBAC", () => {
  test("wins the Lease in the release namespace", async () => {
    const holder = await eventually("the Lease", async () => {
      const r = await cluster.kubectl([
        "-n",
        releaseNs,
        "get",
        "lease",
        "drawbridge-leader",
        "-o",
        "jsonpath={.spec.holderIdentity}",
      ]);
      return r.code === 0 && r.stdout !== "" ? r.stdout : undefined;
    });
    expect(holder.length).toBeGreaterThan(0);
  });

  test("publishes the scope index the admission policy reads", async () => {
    const index = await eventually("the scope index to name team-a", async () => {
      const r = await cluster.kubectl([
        "-n",
        releaseNs,
        "get",
        "jitscopeindex",
        `${release}-scope-index`,
        "-o",
        "json",
      ]);
      if (r.code !== 0) return undefined;
      const data = (JSON.parse(r.stdout) as { data?: Record<string, string> }).data ?? {};
      return data[teamNs];
    });
    expect(index).toBe(DEMO_RG.toLowerCase());
  });

  test("refuses a team-b admin's policy on team-a's VM at admission, and nothing is written", async () => {
    const writesBefore = emulator?.writeLog().length ?? -1;
    const policy = examplePolicy(teamBNs);
    // Admission policies and their parameters take effect asynchronously: the first refusal may
    // still be "no JitScope binds" or the index-not-found denial; what matters is that it is refused.
    const refused = await eventually("the scope admission policy to refuse", async () => {
      const r = await cluster.kubectl(["apply", "-f", "-"], { as: "bob", input: stringify(policy) });
      return r.code !== 0 && r.stderr.includes(`namespace ${teamBNs}`) ? r.stderr : undefined;
    });
    expect(refused).toContain(`${release}-policy-targets-in-scope`);
    expect(refused).toContain(`no JitScope binds namespace ${teamBNs}`);
    const get = await cluster.kubectl(["-n", teamBNs, "get", "jitpolicy", "web-admin"]);
    expect(get.stderr).toContain("NotFound");
    expect(emulator?.writeLog().length).toBe(writesBefore);
  });

  test("refuses a team-a policy that reaches outside its scope, naming the target", async () => {
    const policy = examplePolicy(teamNs);
    const outside =
      "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/other-rg/providers/Microsoft.Compute/virtualMachines/db-1";
    (policy.spec as { targets: object[] }).targets.push({ virtualMachineId: outside });
    (policy.metadata as { name: string }).name = "reaches-out";
    const refused = await eventually("the scope admission policy to refuse", async () => {
      const r = await cluster.kubectl(["apply", "-f", "-"], { input: stringify(policy) });
      return r.code !== 0 ? r.stderr : undefined;
    });
    expect(refused).toContain(
      `spec.targets: ${outside} lies outside every JitScope bound to namespace ${teamNs}`,
    );
  });

  test("grants alice's request, revokes it on her patch, and cleans up when the policy goes", async () => {
    const policy = examplePolicy(teamNs);
    await eventually("the team-a policy to be admitted", async () => {
      const r = await cluster.kubectl(["apply", "-f", "-"], { input: stringify(policy) });
      return r.code === 0 ? true : undefined;
    });
    const request = parse(readFileSync(join(root, "examples", "request.yaml"), "utf8")) as Manifest;
    request.metadata.namespace = teamNs;
    const name =
      (await kubectlOk(["create", "-o", "name", "-f", "-"], { as: "alice", input: stringify(request) }))
        .trim()
        .split("/")
        .pop() ?? "";
    const phase = async (): Promise<string> =>
      (await cluster.kubectl(["-n", teamNs, "get", "accessrequest", name, "-o", "jsonpath={.status.phase}"]))
        .stdout;

    await eventually("Active", async () => ((await phase()) === "Active" ? true : undefined));
    const granted = managedRules().filter((r) =>
      [...(r.properties.sourceAddressPrefixes ?? []), r.properties.sourceAddressPrefix].includes(
        "203.0.113.7/32",
      ),
    );
    expect(granted.length).toBeGreaterThan(0);

    await kubectlOk(
      ["-n", teamNs, "patch", "accessrequest", name, "--type=merge", "-p", '{"spec":{"revoked":true}}'],
      {
        as: "alice",
      },
    );
    await eventually("Revoked", async () => ((await phase()) === "Revoked" ? true : undefined));
    await eventually("the grant's rules to go", () =>
      managedRules().some((r) =>
        [...(r.properties.sourceAddressPrefixes ?? []), r.properties.sourceAddressPrefix].includes(
          "203.0.113.7/32",
        ),
      )
        ? undefined
        : true,
    );

    await kubectlOk(["-n", teamNs, "delete", "jitpolicy", "web-admin", "--wait=false"]);
    await eventually("the policy to be gone", async () => {
      const r = await cluster.kubectl(["-n", teamNs, "get", "jitpolicy", "web-admin"]);
      return r.code !== 0 && r.stderr.includes("NotFound") ? true : undefined;
    });
    expect(managedRules()).toEqual([]);
    const logs = operator?.logs() ?? "";
    expect(logs).toContain("drawbridge operator starting");
    expect(logs).not.toMatch(/forbidden/i);
  });
});
