// The demo's processes: the local control plane, the ARM emulator (in this process) seeded with
// examples/seed.yaml, and the operator as a child process; plus the RBAC that lets alice work with
// AccessRequests in team-a and the example policy.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { stringify } from "yaml";
import { kubectlOk, startControlPlane } from "../controlplane/index.ts";
import type { ControlPlane } from "../controlplane/index.ts";
import { startEmulator } from "../emulator/index.ts";
import type { RunningEmulator } from "../emulator/index.ts";

export const DEMO_NAMESPACE = "team-a";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => {
        resolve(port);
      });
    });
  });
}

export function aliceRbac(namespace: string): string {
  const docs = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "drawbridge-requester", namespace },
      rules: [
        {
          apiGroups: ["jit.drawbridge.dev"],
          resources: ["accessrequests"],
          verbs: ["create", "get", "list", "watch", "update", "patch", "delete"],
        },
        { apiGroups: ["jit.drawbridge.dev"], resources: ["jitpolicies"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["get", "list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "alice-drawbridge-requester", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "drawbridge-requester" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice" }],
    },
  ];
  return docs.map((d) => stringify(d)).join("---\n");
}

export interface DemoStack {
  plane: ControlPlane;
  emulator: RunningEmulator;
  operator: ChildProcess;
  metricsPort: number;
  healthPort: number;
}

export async function startPlane(log: (s: string) => void): Promise<ControlPlane> {
  return startControlPlane({ logger: { info: log } });
}

export async function startEmulatorFor(root: string, stateDir: string): Promise<RunningEmulator> {
  return startEmulator({ seedFile: join(root, "examples", "seed.yaml"), stateDir, throttle: true });
}

export async function applyDemoObjects(plane: ControlPlane, root: string): Promise<void> {
  const opts = { binDir: plane.binDir, kubeconfig: plane.kubeconfigs.admin };
  await kubectlOk(["apply", "-f", "-"], { ...opts, input: aliceRbac(DEMO_NAMESPACE) });
  await kubectlOk(["apply", "-f", join(root, "examples", "policy.yaml")], opts);
}

export function spawnOperator(
  root: string,
  plane: ControlPlane,
  emulator: RunningEmulator,
  ports: { metrics: number; health: number },
): ChildProcess {
  const args = [
    "--disable-warning=ExperimentalWarning",
    join(root, "bin", "drawbridge.js"),
    "run",
    `--kubeconfig=${plane.kubeconfigs.admin}`,
    `--arm-endpoint=${emulator.endpoint}`,
    `--arm-ca-file=${emulator.caFile}`,
    "--leader-elect=true",
    "--leader-election-namespace=default",
    "--resync-interval=30s",
    `--metrics-bind-address=127.0.0.1:${ports.metrics}`,
    `--health-probe-bind-address=127.0.0.1:${ports.health}`,
  ];
  return spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
}
