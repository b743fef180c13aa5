// `npm run demo` / `drawbridge demo`: a local control plane, the ARM emulator with examples/seed.yaml
// and the operator, with examples/policy.yaml applied; prints the commands to try as alice and runs
// until Ctrl-C, then stops everything it started. `drawbridge demo nsgs` prints the demo's NSGs.
import type { ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { kubectl } from "../controlplane/index.ts";
import type { ControlPlane } from "../controlplane/index.ts";
import type { RunningEmulator } from "../emulator/index.ts";
import { compactLogLine } from "./logs.ts";
import { printNsgs } from "./nsgs.ts";
import type { DemoInfo } from "./nsgs.ts";
import {
  DEMO_NAMESPACE,
  applyDemoObjects,
  freePort,
  spawnOperator,
  startEmulatorFor,
  startPlane,
} from "./stack.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SUB =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers/Microsoft.Network/networkSecurityGroups";
const NSG_IDS = [`${SUB}/web-1-nic-nsg`, `${SUB}/web-subnet-nsg`, `${SUB}/jump-nsg`];

export function demoDir(): string {
  return join(tmpdir(), "drawbridge-demo");
}

function say(s: string): void {
  process.stdout.write(`${s}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Refuse to start next to a running demo; clear the leftovers of one that died. */
function claimDemoDir(dir: string): boolean {
  const infoFile = join(dir, "demo.json");
  if (existsSync(infoFile)) {
    const info = JSON.parse(readFileSync(infoFile, "utf8")) as { pid?: number };
    if (info.pid !== undefined && alive(info.pid)) {
      process.stderr.write(
        `drawbridge demo: a demo is already running (pid ${info.pid}); stop it with Ctrl-C first\n`,
      );
      return false;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return true;
}

function instructions(
  plane: ControlPlane,
  emulator: RunningEmulator,
  ports: { metrics: number; health: number },
): string {
  const kubectlPath = join(plane.binDir, "kubectl");
  const req = join(ROOT, "examples", "request.yaml");
  return `
drawbridge demo is running. In another terminal, act as alice (member of team-a):

  export KUBECONFIG=${plane.kubeconfigs.alice}
  alias kubectl=${kubectlPath}

  kubectl get jitpolicies -n ${DEMO_NAMESPACE}                 # the policy the platform team applied
  kubectl create -f ${req}        # ask for SSH from 203.0.113.7 for 1h
  kubectl get accessrequests -n ${DEMO_NAMESPACE} -w           # Pending -> Active within seconds
  npx drawbridge demo nsgs                                 # the NSG rules in the (emulated) Azure
  kubectl describe accessrequest -n ${DEMO_NAMESPACE} <name>   # rules, conditions, events
  kubectl patch accessrequest -n ${DEMO_NAMESPACE} <name> --type=merge -p '{"spec":{"revoked":true}}'
  kubectl delete accessrequest -n ${DEMO_NAMESPACE} <name>     # revokes first, then goes

  # outside the policy (source not in 203.0.113.0/24): Denied with the reason, nothing written
  sed 's#203.0.113.7/32#198.51.100.7/32#' ${req} | kubectl create -f -
  # a short one: Expired after 10 seconds, its rule removed
  sed 's#PT1H#PT10S#' ${req} | kubectl create -f -

The NSG as ARM holds it (what \`npx drawbridge demo nsgs\` shows for the three demo NSGs):
  curl -s --cacert ${emulator.caFile} '${emulator.endpoint}/_emulator/nsg?id=${NSG_IDS[0] ?? ""}'
Operator: metrics http://127.0.0.1:${ports.metrics}/metrics, health http://127.0.0.1:${ports.health}/readyz,
  full JSON log in ${join(demoDir(), "operator.log")}

Press Ctrl-C to stop everything.
`;
}

function pipeOperator(op: ChildProcess, logFile: string): void {
  const file = createWriteStream(logFile, { flags: "a" });
  for (const stream of [op.stdout, op.stderr]) {
    if (stream === null) continue;
    createInterface({ input: stream }).on("line", (line) => {
      file.write(`${line}\n`);
      const short = compactLogLine(line);
      if (short !== undefined) say(short);
    });
  }
}

async function waitPolicyReady(plane: ControlPlane, stop: () => boolean): Promise<string> {
  const opts = { binDir: plane.binDir, kubeconfig: plane.kubeconfigs.admin };
  const args = [
    "get",
    "jitpolicy",
    "web-admin",
    "-n",
    DEMO_NAMESPACE,
    "-o",
    'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
  ];
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline && !stop()) {
    const r = await kubectl(args, opts);
    if (r.code === 0 && r.stdout.trim() === "True") return "Ready";
    await new Promise((res) => setTimeout(res, 1000));
  }
  return "not Ready yet (see the operator log)";
}

async function stopOperator(op: ChildProcess | undefined): Promise<void> {
  if (op === undefined || op.exitCode !== null || op.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    op.once("exit", () => {
      resolve();
    }),
  );
  op.kill("SIGTERM");
  const timer = setTimeout(() => op.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(timer);
}

export async function run(args: string[]): Promise<number> {
  if (args[0] === "nsgs") return printNsgs(join(demoDir(), "demo.json"), (s) => process.stdout.write(s));
  if (args.length > 0) {
    process.stderr.write("usage: drawbridge demo [nsgs]\n");
    return 2;
  }
  const dir = demoDir();
  if (!claimDemoDir(dir)) return 1;
  const state = { stopping: false };
  const isStopping = (): boolean => state.stopping;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const onSignal = (): void => {
    state.stopping = true;
    wake();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let plane: ControlPlane | undefined;
  let emulator: RunningEmulator | undefined;
  let operator: ChildProcess | undefined;
  let code = 0;
  try {
    say(
      "starting the local control plane (kube-apiserver + etcd; the first run builds them, which takes a while)...",
    );
    plane = await startPlane((line) => {
      say(`  ${line}`);
    });
    if (isStopping()) return 130;
    emulator = await startEmulatorFor(ROOT, join(dir, "emulator"));
    say(`ARM emulator on ${emulator.endpoint} (seed: examples/seed.yaml)`);
    await applyDemoObjects(plane, ROOT);
    say(`applied examples/policy.yaml; alice may create AccessRequests in ${DEMO_NAMESPACE}`);
    const ports = { metrics: await freePort(), health: await freePort() };
    operator = spawnOperator(ROOT, plane, emulator, ports);
    pipeOperator(operator, join(dir, "operator.log"));
    operator.once("exit", (c) => {
      if (!state.stopping) {
        say(`operator exited (${c ?? "signal"}); stopping the demo`);
        code = 1;
        state.stopping = true;
        wake();
      }
    });
    const info: DemoInfo & { pid: number } = {
      endpoint: emulator.endpoint,
      caFile: emulator.caFile,
      nsgIds: NSG_IDS,
      pid: process.pid,
    };
    writeFileSync(join(dir, "demo.json"), JSON.stringify(info, null, 2));
    const ready = await waitPolicyReady(plane, () => state.stopping);
    if (!isStopping()) {
      say(`policy team-a/web-admin: ${ready}`);
      say(instructions(plane, emulator, ports));
    }
    await stopped;
  } catch (err) {
    process.stderr.write(`drawbridge demo: ${err instanceof Error ? err.message : String(err)}\n`);
    code = 1;
  } finally {
    say("stopping the demo...");
    await stopOperator(operator);
    await emulator?.close();
    await plane?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    say("stopped; nothing left running.");
  }
  return code;
}
