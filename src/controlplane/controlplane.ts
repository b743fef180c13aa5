// One local control plane: PKI, etcd, kube-apiserver, the project's CRDs. `startControlPlane`
// brings it up; `attachControlPlane` finds one another process started (through its state dir).
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startApiServer } from "./apiserver.ts";
import { ensureBinaries } from "./binaries.ts";
import { installCrds } from "./crds.ts";
import { startEtcd } from "./etcd.ts";
import type { Logger } from "./logger.ts";
import { createClientCert, createPki } from "./pki.ts";
import { isRunning, stopDaemon } from "./processes.ts";
import { readState, writeState } from "./state.ts";
import type { ControlPlaneState, Users } from "./state.ts";
import { mintBuiltinUsers, mintUserKubeconfig } from "./users.ts";

/** Prefix of the temp dirs planes without an explicit stateDir live in. */
export const TEMP_STATE_PREFIX = "drawbridge-cp-";

export const DEFAULT_CRDS_DIR = fileURLToPath(new URL("../../crds/", import.meta.url));

export type ControlPlaneOptions = {
  /** Where certificates, kubeconfigs, etcd data and logs go; default: a new temp dir. Removed by stop(). */
  stateDir?: string;
  /** CRD manifests to install; default: the repository's crds/. A missing dir installs nothing. */
  crdsDir?: string;
  /** Where kube-apiserver, etcd and kubectl are; default: ensureBinaries(). */
  binDir?: string;
  logger?: Logger;
  /** Daemons outlive this process (the CLI's `up`); default false: they die with it. */
  detached?: boolean;
};

export type ControlPlane = {
  /** The API server's URL, https://127.0.0.1:<port>. */
  server: string;
  stateDir: string;
  /** Holds kube-apiserver, etcd and the matching kubectl. */
  binDir: string;
  kubeconfigs: Users;
  /** Names of the installed CRDs. */
  crds: string[];
  /** A kubeconfig for a further user (a client certificate with CN=name, O=each group). */
  userKubeconfig(name: string, groups: string[]): Promise<string>;
  /** Stops the API server and etcd and removes the state dir. Idempotent. */
  stop(): Promise<void>;
};

function handle(state: ControlPlaneState): ControlPlane {
  let stopping: Promise<void> | undefined;
  return {
    server: state.server,
    stateDir: state.stateDir,
    binDir: state.binDir,
    kubeconfigs: state.kubeconfigs,
    crds: state.crds,
    userKubeconfig: (name, groups) => mintUserKubeconfig(state, name, groups),
    stop: () => (stopping ??= stopState(state)),
  };
}

/** Stops the daemons a state records (API server first, so it does not complain about etcd) and removes its dir. */
export async function stopState(state: ControlPlaneState): Promise<void> {
  for (const daemon of [...state.daemons].reverse()) await stopDaemon(daemon.pid, daemon.bin);
  await rm(state.stateDir, { recursive: true, force: true });
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = opts.logger ?? { info: () => undefined };
  const binDir = opts.binDir ?? (await ensureBinaries({ logger: log }));
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), TEMP_STATE_PREFIX)));
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const detached = opts.detached ?? false;
  const state: ControlPlaneState = {
    version: 1,
    server: "",
    stateDir,
    binDir,
    pkiDir: join(stateDir, "pki"),
    kubeconfigDir: join(stateDir, "kubeconfigs"),
    kubeconfigs: { admin: "", alice: "", bob: "" },
    crds: [],
    ownerPid: detached ? 0 : process.pid,
    daemons: [],
    startedAt: new Date().toISOString(),
  };
  try {
    await bringUp(state, opts.crdsDir ?? DEFAULT_CRDS_DIR, detached, log);
  } catch (error) {
    await stopState(state);
    throw error;
  }
  return handle(state);
}

async function bringUp(
  state: ControlPlaneState,
  crdsDir: string,
  detached: boolean,
  log: Logger,
): Promise<void> {
  await mkdir(state.kubeconfigDir, { recursive: true, mode: 0o700 });
  const pki = await createPki(state.pkiDir);
  const etcd = await startEtcd({ binDir: state.binDir, stateDir: state.stateDir, detached });
  state.daemons.push({ name: "etcd", pid: etcd.pid, bin: etcd.bin });
  await writeState(state);
  log.info(`etcd serving on ${etcd.url}`);
  // The API server's port is only known once it is picked, and readiness needs an admin client.
  const admin = await mintAdminForProbe(state);
  const apiserver = await startApiServer({ ...state, etcdUrl: etcd.url, pki, admin, detached });
  state.daemons.push({ name: "kube-apiserver", pid: apiserver.pid, bin: apiserver.bin });
  state.server = apiserver.url;
  await writeState(state);
  log.info(`kube-apiserver ready on ${apiserver.url}`);
  state.kubeconfigs = await mintBuiltinUsers(state);
  state.crds = await installCrds(crdsDir, state.binDir, state.kubeconfigs.admin);
  await writeState(state);
  if (state.crds.length > 0) log.info(`CRDs established: ${state.crds.join(", ")}`);
}

function mintAdminForProbe(state: ControlPlaneState): Promise<{ cert: string; key: string }> {
  const ca = { cert: join(state.pkiDir, "ca.crt"), key: join(state.pkiDir, "ca.key") };
  return createClientCert(state.pkiDir, ca, "drawbridge-readiness-probe", ["system:masters"]);
}

/** The control plane whose state is in `stateDir`, if its daemons still run; otherwise undefined. */
export async function attachControlPlane(stateDir: string): Promise<ControlPlane | undefined> {
  const state = await readState(stateDir);
  if (state === undefined || state.server === "") return undefined;
  if (!state.daemons.every((d) => isRunning(d.pid, d.bin))) return undefined;
  return handle(state);
}

/** Stops whatever a state dir records, even a half-started plane, and removes the dir. */
export async function stopStateDir(stateDir: string): Promise<boolean> {
  const state = await readState(stateDir).catch(() => undefined);
  if (state !== undefined) await stopState(state);
  await rm(stateDir, { recursive: true, force: true });
  return state !== undefined;
}
