// etcd for one control plane: a single member on loopback, data under the state directory.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { freePorts } from "./ports.ts";
import { spawnDaemon, stopDaemon } from "./processes.ts";
import { retryOnPortClash } from "./retry.ts";
import { httpOk, waitUntilServing } from "./readiness.ts";

export type Etcd = { pid: number; bin: string; url: string; logFile: string };

export type EtcdOptions = { binDir: string; stateDir: string; detached: boolean };

async function startEtcdOnce(opts: EtcdOptions): Promise<Etcd> {
  const bin = join(opts.binDir, "etcd");
  const dataDir = join(opts.stateDir, "etcd");
  // A member is bootstrapped with its peer URL: a retry on new ports needs a fresh data dir.
  await rm(dataDir, { recursive: true, force: true });
  const [clientPort, peerPort] = await freePorts(2);
  const client = `http://127.0.0.1:${clientPort ?? 0}`;
  const peer = `http://127.0.0.1:${peerPort ?? 0}`;
  const logFile = join(opts.stateDir, "etcd.log");
  const args = [
    "--name=default",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // A throw-away store: durability across power loss buys nothing and costs every write a fsync.
    "--unsafe-no-fsync=true",
    // The benchmark's full run keeps two 100,000-request estates (and their history until the
    // API server compacts it); the 2 GiB default would refuse writes with "database space exceeded".
    "--quota-backend-bytes=8589934592",
    "--log-level=warn",
  ];
  const pid = await spawnDaemon({ bin, args, logFile, detached: opts.detached });
  try {
    await waitUntilServing({ what: "etcd", pid, bin, logFile, timeoutMs: 30_000 }, () =>
      httpOk(`${client}/health`),
    );
  } catch (error) {
    await stopDaemon(pid, bin);
    throw error;
  }
  return { pid, bin, url: client, logFile };
}

export function startEtcd(opts: EtcdOptions): Promise<Etcd> {
  return retryOnPortClash(() => startEtcdOnce(opts));
}
