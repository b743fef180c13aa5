// The lifecycle docs/install.md and docs/upgrade.md describe, with helm itself against the real
// API server: install (helm checks the chart's kubeVersion against the server), upgrade with a
// changed value, uninstall removing the cluster-scoped objects.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureHelm } from "../../src/helm/build.ts";
import { chartDir, runHelm, withValuesFile, type HelmResult } from "../../src/helm/template.ts";
import { testCluster, type TestCluster } from "../support/cluster.ts";
import { WORKLOAD_CLIENT_ID } from "./helm-support.ts";

jest.setTimeout(120_000);

// A letter first: hex such as "12e345" would read back from the rendered chart as a YAML number.
const run = `r${randomBytes(3).toString("hex")}`;
const release = `drawbridge-in${run}`;
let cluster: TestCluster;
let helmBin = "";
let helmHome = "";
let ns = "";

function helm(args: string[]): Promise<HelmResult> {
  // A private helm home: the test writes nothing under the user's ~/.config or ~/.cache.
  return runHelm(helmBin, [...args, "--kubeconfig", cluster.adminKubeconfig, "--namespace", ns], {
    ...process.env,
    HELM_CONFIG_HOME: join(helmHome, "config"),
    HELM_CACHE_HOME: join(helmHome, "cache"),
    HELM_DATA_HOME: join(helmHome, "data"),
  });
}

const values = {
  // The test setup owns the CRDs of this control plane.
  crds: { enabled: false },
  azure: { workloadIdentity: { clientId: WORKLOAD_CLIENT_ID } },
  // Scoped to a label no namespace carries, so other tests sharing the plane are unaffected.
  admissionPolicy: {
    namespaceSelector: { matchLabels: { "drawbridge.dev/packaging-test": `install-${run}` } },
  },
};

beforeAll(async () => {
  cluster = testCluster();
  helmBin = await ensureHelm({ env: process.env });
  helmHome = mkdtempSync(join(tmpdir(), "drawbridge-helm-home-"));
  ns = await cluster.createNamespace("drawbridge-system");
}, 1_800_000);

afterAll(async () => {
  await helm(["uninstall", release, "--ignore-not-found"]);
  rmSync(helmHome, { recursive: true, force: true });
});

async function writeMode(): Promise<string | undefined> {
  const r = await cluster.kubectl([
    "-n",
    ns,
    "get",
    "deployment",
    release,
    "-o",
    "jsonpath={.spec.template.spec.containers[0].args}",
  ]);
  const args = JSON.parse(r.stdout === "" ? "[]" : r.stdout) as string[];
  return args.find((a) => a.startsWith("--write-mode="));
}

describe("helm install, upgrade, uninstall", () => {
  test("installs", async () => {
    const r = await withValuesFile(values, (valuesArgs) =>
      helm(["install", release, chartDir(), ...valuesArgs]),
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("STATUS: deployed");
    expect(r.stdout).toContain(`--clusterrole=${release}-requester`);
    expect(await writeMode()).toBe("--write-mode=rule");
  });

  test("upgrades a value in place", async () => {
    const r = await helm([
      "upgrade",
      release,
      chartDir(),
      "--reuse-values",
      "--set",
      "operator.writeMode=nsg",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("REVISION: 2");
    expect(await writeMode()).toBe("--write-mode=nsg");
  });

  test("refuses an upgrade with a misspelt value", async () => {
    const r = await helm([
      "upgrade",
      release,
      chartDir(),
      "--reuse-values",
      "--set",
      "operator.writeMod=nsg",
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("writeMod");
  });

  test("uninstalls, removing the cluster-scoped objects", async () => {
    const r = await helm(["uninstall", release]);
    expect(r.code).toBe(0);
    for (const kind of ["validatingadmissionpolicy", "clusterrole"]) {
      const names = ["requester-is-caller", "requester"].map((s) => `${release}-${s}`);
      const left = await cluster.kubectl(["get", kind, ...names, "--ignore-not-found", "-o", "name"]);
      expect(left.stdout).toBe("");
    }
  });
});
