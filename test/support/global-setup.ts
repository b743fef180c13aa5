// Jest global setup of the integration and e2e projects: ONE real control plane (etcd +
// kube-apiserver + CRDs) for the whole run, handed to test files through environment variables.
// Jest runs this once per run, and only when a selected test belongs to one of those projects.
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import {
  TEMP_STATE_PREFIX,
  attachControlPlane,
  killDaemonNow,
  readState,
  reapStaleControlPlanes,
  startControlPlane,
} from "../../src/controlplane/index.ts";
import type { ControlPlane, ControlPlaneState } from "../../src/controlplane/index.ts";
import { ENV } from "./env.ts";

export type SharedPlane = { plane: ControlPlane; owned: boolean; release: () => void };

// Global setup and teardown run in the same (parent) process; this is how the teardown finds it.
const KEY = Symbol.for("drawbridge.test.controlPlane");
type Holder = { [KEY]?: SharedPlane };

export function sharedPlane(): SharedPlane | undefined {
  return (globalThis as Holder)[KEY];
}

/** Kills the daemons and removes the state synchronously: all there is time for in a signal handler. */
function emergencyCleanup(state: ControlPlaneState): () => void {
  let done = false;
  const cleanup = (): void => {
    if (done) return;
    done = true;
    for (const d of state.daemons) killDaemonNow(d.pid, d.bin);
    rmSync(state.stateDir, { recursive: true, force: true });
  };
  // Stays registered (not `once`) so that a second signal cannot fall back to the default action
  // halfway through the cleanup.
  const onSignal = (signal: NodeJS.Signals): void => {
    cleanup();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, onSignal);
  process.on("exit", cleanup);
  return () => {
    for (const s of signals) process.off(s, onSignal);
    process.off("exit", cleanup);
  };
}

function exportEnv(plane: ControlPlane): void {
  process.env[ENV.stateDir] = plane.stateDir;
  process.env[ENV.kubeconfigDir] = join(plane.stateDir, "kubeconfigs");
  process.env[ENV.server] = plane.server;
  process.env[ENV.kubectl] = join(plane.binDir, "kubectl");
  process.env.PATH = [plane.binDir, process.env.PATH ?? ""].join(delimiter);
}

async function reuse(stateDir: string): Promise<SharedPlane> {
  const plane = await attachControlPlane(stateDir);
  if (plane === undefined) {
    throw new Error(
      `${ENV.stateDir}=${stateDir}: no running control plane there (start one with cluster up)`,
    );
  }
  return { plane, owned: false, release: () => undefined };
}

async function start(): Promise<SharedPlane> {
  const reaped = await reapStaleControlPlanes(tmpdir(), TEMP_STATE_PREFIX);
  for (const dir of reaped) process.stderr.write(`drawbridge: removed a stale control plane: ${dir}\n`);
  const began = Date.now();
  // Only a first-time binary build says anything; it takes minutes, so show its progress.
  const logger = {
    info: (m: string) => /^buil(t|ding) /.test(m) && process.stderr.write(`\ndrawbridge: ${m}\n`),
  };
  const plane = await startControlPlane({ logger });
  const state = await readState(plane.stateDir);
  const release = state ? emergencyCleanup(state) : () => undefined;
  process.stderr.write(`\ndrawbridge: control plane ${plane.server} ready in ${Date.now() - began} ms\n`);
  return { plane, owned: true, release };
}

export default async function globalSetup(): Promise<void> {
  if (sharedPlane() !== undefined) return;
  const preset = process.env[ENV.stateDir];
  const shared = preset ? await reuse(preset) : await start();
  (globalThis as Holder)[KEY] = shared;
  exportEnv(shared.plane);
}

export function forgetSharedPlane(): void {
  (globalThis as Holder)[KEY] = undefined;
}
