// The demo's processes and objects: the local control plane, the ARM emulator (in this process)
// seeded with examples/seed.yaml, the operator as a child process, and, in this order, the
// namespaces and RBAC, the chart's admission policies, the JitScope (examples/scope.yaml) and the
// policy (examples/policy.yaml), so the demo refuses what a cluster with the chart refuses.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { kubectl, kubectlOk, startControlPlane } from "../controlplane/index.ts";
import type { ControlPlane } from "../controlplane/index.ts";
import { startEmulator } from "../emulator/index.ts";
import type { RunningEmulator } from "../emulator/index.ts";
import type { Manifest } from "../helm/template.ts";
import { demoAccessYaml } from "./access.ts";
import { installAdmission, scopeIndexRef, waitRequesterEnforced } from "./admission.ts";
import { DEMO_NAMESPACE, DEMO_RELEASE, OTHER_TEAM_NAMESPACE } from "./names.ts";

export { DEMO_NAMESPACE, DEMO_RELEASE, OTHER_TEAM_NAMESPACE } from "./names.ts";

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

export async function startPlane(log: (s: string) => void): Promise<ControlPlane> {
  return startControlPlane({ logger: { info: log } });
}

export async function startEmulatorFor(root: string, stateDir?: string): Promise<RunningEmulator> {
  return startEmulator({
    seedFile: join(root, "examples", "seed.yaml"),
    throttle: true,
    ...(stateDir === undefined ? {} : { stateDir }),
  });
}

function admin(plane: ControlPlane, input?: string): { binDir: string; kubeconfig: string; input?: string } {
  return {
    binDir: plane.binDir,
    kubeconfig: plane.kubeconfigs.admin,
    ...(input === undefined ? {} : { input }),
  };
}

/**
 * Everything the platform admin sets up before the operator starts: namespaces and RBAC, the chart's
 * admission objects (waiting until the API server enforces them), then examples/scope.yaml.
 * Resolves to the API server's refusal of alice's request in bob's name.
 */
export async function applyDemoObjects(
  plane: ControlPlane,
  root: string,
  admission: Manifest[],
): Promise<string> {
  await kubectlOk(["apply", "-f", "-"], admin(plane, demoAccessYaml()));
  await installAdmission(plane, admission);
  const refusal = await waitRequesterEnforced(plane, forgedRequest(root));
  await kubectlOk(["apply", "-f", join(root, "examples", "scope.yaml")], admin(plane));
  return refusal;
}

/**
 * Applies a JitPolicy as the admin, retrying while an admission policy refuses it: the scope policy
 * reads the index the operator publishes after it starts, so the first tries may come too early.
 * Any other failure, or a refusal that outlasts `timeoutMs`, is thrown with kubectl's message; `stop`
 * ends the retries early (Ctrl-C).
 */
export async function applyPolicy(
  plane: ControlPlane,
  yaml: string,
  opts: { timeoutMs?: number; stop?: () => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const r = await kubectl(["apply", "-f", "-"], admin(plane, yaml));
    if (r.code === 0 || opts.stop?.() === true) return;
    const refusedByAdmission = r.stderr.includes("ValidatingAdmissionPolicy");
    if (!refusedByAdmission || Date.now() >= deadline) {
      throw new Error(`applying the JitPolicy failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** examples/request.yaml made out in bob's name: what alice must not be able to create. */
export function forgedRequest(root: string): string {
  const request = readFileSync(join(root, "examples", "request.yaml"), "utf8");
  const forged = request.replace(/^(\s*)requester: alice$/m, "$1requester: bob");
  if (forged === request) throw new Error("examples/request.yaml: no `requester: alice` line to forge");
  return forged;
}

/** examples/policy.yaml as it is, for team-a. */
export function examplePolicy(root: string): string {
  return readFileSync(join(root, "examples", "policy.yaml"), "utf8");
}

/** examples/policy.yaml moved into team-b: bob's attempt on team-a's VM. */
export function otherTeamPolicy(root: string): string {
  const policy = examplePolicy(root);
  const moved = policy.replace(
    new RegExp(`^(\\s*)namespace: ${DEMO_NAMESPACE}$`, "m"),
    `$1namespace: ${OTHER_TEAM_NAMESPACE}`,
  );
  if (moved === policy)
    throw new Error(`examples/policy.yaml: no \`namespace: ${DEMO_NAMESPACE}\` line to move`);
  return moved;
}

/** The part of kubectl's message that names the admission policy and its reason. */
export function admissionRefusal(stderr: string): string | undefined {
  const at = stderr.indexOf("ValidatingAdmissionPolicy '");
  return at < 0 ? undefined : stderr.slice(at).trim();
}

/**
 * bob's server-side dry run of the team-b policy on team-a's VM; resolves to the admission refusal,
 * and throws when the API server admits it (the demo would then promise a refusal it does not give).
 */
export async function probeOtherTeamPolicy(plane: ControlPlane, root: string): Promise<string> {
  const opts = { binDir: plane.binDir, kubeconfig: plane.kubeconfigs.bob, input: otherTeamPolicy(root) };
  const r = await kubectl(["apply", "--dry-run=server", "-f", "-"], opts);
  const refusal = admissionRefusal(r.stderr);
  if (r.code === 0 || refusal === undefined) {
    const got = r.code === 0 ? "it was admitted" : r.stderr.trim();
    throw new Error(
      `bob's ${OTHER_TEAM_NAMESPACE} policy on ${DEMO_NAMESPACE}'s VM must be refused by the chart's scope admission policy, but ${got}`,
    );
  }
  return refusal;
}

export interface OperatorPorts {
  metrics: number;
  health: number;
}

/**
 * The operator's flags: the admin kubeconfig and the emulator, and the chart's release namespace for
 * its Lease and the scope index, which it publishes under the name the rendered scope binding reads
 * (`admission` is what renderAdmission returned).
 */
export function operatorArgs(
  root: string,
  plane: ControlPlane,
  emulator: RunningEmulator,
  ports: OperatorPorts,
  admission: Manifest[],
): string[] {
  const index = scopeIndexRef(admission);
  return [
    "--disable-warning=ExperimentalWarning",
    join(root, "bin", "drawbridge.js"),
    "run",
    `--kubeconfig=${plane.kubeconfigs.admin}`,
    `--arm-endpoint=${emulator.endpoint}`,
    `--arm-ca-file=${emulator.caFile}`,
    "--leader-elect=true",
    // The chart's release namespace: the operator's Lease and the scope index live there.
    `--leader-election-namespace=${DEMO_RELEASE.namespace}`,
    ...(index === undefined ? [] : [`--scope-index-name=${index.name}`]),
    "--resync-interval=30s",
    `--metrics-bind-address=127.0.0.1:${ports.metrics}`,
    `--health-probe-bind-address=127.0.0.1:${ports.health}`,
  ];
}

export function spawnOperator(
  root: string,
  plane: ControlPlane,
  emulator: RunningEmulator,
  ports: OperatorPorts,
  admission: Manifest[],
): ChildProcess {
  const args = operatorArgs(root, plane, emulator, ports, admission);
  return spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
}
