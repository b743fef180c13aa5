// `npm run demo` / `drawbridge demo`: a local control plane, the ARM emulator with examples/seed.yaml
// and the operator, guarded by the chart's admission policies, with examples/scope.yaml and
// examples/policy.yaml applied; prints the commands to try as alice and bob and runs until Ctrl-C,
// then stops everything it started. `drawbridge demo nsgs` prints the demo's NSGs.
import type { ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { kubectl } from "../controlplane/index.ts";
import type { ControlPlane } from "../controlplane/index.ts";
import type { RunningEmulator } from "../emulator/index.ts";
import { renderAdmission } from "./admission.ts";
import { instructions } from "./instructions.ts";
import { installPlugin } from "./plugin.ts";
import { compactLogLine } from "./logs.ts";
import { DEMO_NAMESPACE } from "./names.ts";
import { printNsgs } from "./nsgs.ts";
import type { DemoInfo } from "./nsgs.ts";
import {
  applyDemoObjects,
  applyPolicy,
  examplePolicy,
  freePort,
  probeOtherTeamPolicy,
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
    say("rendering the chart's admission policies (the first run builds helm, which takes a few minutes)...");
    const admission = await renderAdmission((line) => {
      say(`  ${line}`);
    });
    if (isStopping()) return 130;
    say(
      "starting the local control plane (kube-apiserver + etcd; the first run builds them, which takes a while)...",
    );
    plane = await startPlane((line) => {
      say(`  ${line}`);
    });
    if (isStopping()) return 130;
    emulator = await startEmulatorFor(ROOT, join(dir, "emulator"));
    say(`ARM emulator on ${emulator.endpoint} (seed: examples/seed.yaml)`);
    const forgedRequester = await applyDemoObjects(plane, ROOT, admission);
    const names = admission.filter((m) => m.kind === "ValidatingAdmissionPolicy").map((m) => m.metadata.name);
    say(`enforcing the chart's admission policies: ${names.join(", ")}`);
    say(`applied examples/scope.yaml: JitScope team-a grants ${DEMO_NAMESPACE} the resource group demo-rg`);
    const ports = { metrics: await freePort(), health: await freePort() };
    operator = spawnOperator(ROOT, plane, emulator, ports, admission);
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
    // The scope policy admits the policy once the operator has published its scope index.
    await applyPolicy(plane, examplePolicy(ROOT), { stop: isStopping });
    // Ctrl-C (130) or the operator's exit (code already 1) while the policy waited for the index.
    if (isStopping()) return code === 0 ? 130 : code;
    say(`applied examples/policy.yaml; alice may create AccessRequests in ${DEMO_NAMESPACE}`);
    const outOfScopePolicy = await probeOtherTeamPolicy(plane, ROOT);
    const ready = await waitPolicyReady(plane, () => state.stopping);
    if (!isStopping()) {
      say(`policy ${DEMO_NAMESPACE}/web-admin: ${ready}`);
      say(
        instructions({
          root: ROOT,
          plane,
          emulator,
          ports,
          nsgId: NSG_IDS[0] ?? "",
          operatorLog: join(dir, "operator.log"),
          refusals: { forgedRequester, outOfScopePolicy },
          pluginPath: installPlugin(ROOT, dir, process.execPath),
        }),
      );
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
