// Test access to the run's shared control plane (started by global-setup.ts). Stable API for every
// integration and e2e test:
//
//   const cluster = testCluster();
//   const ns = await cluster.createNamespace("crd");            // one namespace per test
//   const r = await cluster.kubectl(["apply", "-n", ns, "-f", "-"], { as: "alice", input: yaml });
//   const api = cluster.kubeConfig("admin").makeApiClient(CustomObjectsApi);
//
// Users: `admin` (group system:masters), `alice` (team-a), `bob` (team-b); more with mintUser().
// Namespaces are never deleted: no namespace controller runs, and the whole plane is thrown away
// at the end of the run.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, V1Namespace, V1ObjectMeta } from "@kubernetes/client-node";
import { kubectl, mintUserKubeconfig, readState } from "../../src/controlplane/index.ts";
import type { KubectlResult } from "../../src/controlplane/index.ts";
import { ENV } from "./env.ts";

export type { KubectlResult };

/** The built-in users; any name given to mintUser() works too. */
export type TestUser = "admin" | "alice" | "bob";

export type KubectlCallOptions = {
  /** Whose kubeconfig kubectl uses; default admin. */
  as?: TestUser | (string & {});
  /** Written to kubectl's stdin (for `-f -`). */
  input?: string;
  timeoutMs?: number;
};

export type TestCluster = {
  server: string;
  /** Directory holding the plane's state; pass to the operator as needed. */
  stateDir: string;
  adminKubeconfig: string;
  /** The kubectl matching the server's version. */
  kubectlPath: string;
  /** Kubeconfig path of a built-in user or of one minted with mintUser(). */
  kubeconfigFor(user: TestUser | (string & {})): string;
  /** Mints a further user (client certificate CN=name, O=groups); resolves to its kubeconfig. */
  mintUser(name: string, groups: string[]): Promise<string>;
  /** Runs kubectl as a user; never rejects on a non-zero exit: check `code`. */
  kubectl(args: string[], opts?: KubectlCallOptions): Promise<KubectlResult>;
  /** A @kubernetes/client-node KubeConfig for a user; `makeApiClient` on it. */
  kubeConfig(user?: TestUser | (string & {})): KubeConfig;
  /** Creates a fresh namespace `<prefix>-<random>` (as admin) and resolves to its name. */
  createNamespace(prefix: string): Promise<string>;
};

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(
      `${name} is not set: the shared control plane starts in Jest's global setup of the integration ` +
        `and e2e projects (test/support/global-setup.ts); run tests with npm run test:integration or npm test`,
    );
  }
  return value;
}

/** A DNS label: lower-case alphanumerics and '-', at most 63 characters. */
function namespaceName(prefix: string): string {
  const base = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
  return `${base || "test"}-${randomBytes(4).toString("hex")}`;
}

export function testCluster(): TestCluster {
  const stateDir = required(ENV.stateDir);
  const kubeconfigDir = required(ENV.kubeconfigDir);
  const server = required(ENV.server);
  const kubectlPath = required(ENV.kubectl);
  const binDir = join(kubectlPath, "..");

  const kubeconfigFor = (user: string): string => {
    const path = join(kubeconfigDir, `${user}.kubeconfig`);
    if (!existsSync(path)) throw new Error(`no kubeconfig for user "${user}": mint it with mintUser()`);
    return path;
  };
  const kubeConfig = (user = "admin"): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigFor(user));
    return kc;
  };
  return {
    server,
    stateDir,
    adminKubeconfig: kubeconfigFor("admin"),
    kubectlPath,
    kubeconfigFor,
    async mintUser(name, groups) {
      const state = await readState(stateDir);
      if (state === undefined) throw new Error(`${stateDir}: no control plane state`);
      return mintUserKubeconfig(state, name, groups);
    },
    kubectl: (args, opts = {}) =>
      kubectl(args, {
        binDir,
        kubeconfig: kubeconfigFor(opts.as ?? "admin"),
        ...(opts.input === undefined ? {} : { input: opts.input }),
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      }),
    kubeConfig,
    async createNamespace(prefix) {
      const name = namespaceName(prefix);
      const api = kubeConfig("admin").makeApiClient(CoreV1Api);
      const body = new V1Namespace();
      body.metadata = Object.assign(new V1ObjectMeta(), { name, labels: { "drawbridge.dev/test": "true" } });
      await api.createNamespace({ body });
      return name;
    },
  };
}
