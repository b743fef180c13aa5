// What a running control plane leaves in its state directory (`state.json`), so that another
// process (the CLI's `env`/`down`, a Jest worker, the next test run) can find, use or stop it.
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type Users = { admin: string; alice: string; bob: string };

export type ControlPlaneState = {
  version: 1;
  server: string;
  stateDir: string;
  binDir: string;
  pkiDir: string;
  kubeconfigDir: string;
  kubeconfigs: Users;
  crds: string[];
  /** The Node process that started it; 0 when the daemons are detached to outlive it. */
  ownerPid: number;
  daemons: { name: string; pid: number; bin: string }[];
  startedAt: string;
};

export function statePath(stateDir: string): string {
  return join(stateDir, "state.json");
}

export async function writeState(state: ControlPlaneState): Promise<void> {
  const path = statePath(state.stateDir);
  await writeFile(`${path}.tmp`, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** The state in `stateDir`, or undefined when there is none. */
export async function readState(stateDir: string): Promise<ControlPlaneState | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(stateDir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const state = JSON.parse(text) as Partial<ControlPlaneState>;
  if (state.version !== 1) throw new Error(`${statePath(stateDir)}: unsupported state version`);
  return state as ControlPlaneState;
}
