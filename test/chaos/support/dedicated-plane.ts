// A control plane of the test's own (not the run's shared one), so its kube-apiserver can be
// stopped and started again on the same port with the same flags while etcd keeps running, and
// etcd can be compacted. Also adapts it to the TestCluster shape the chaos stack uses.
import { readFileSync } from "node:fs";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KubeConfig, CoreV1Api, V1Namespace, V1ObjectMeta } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import {
  kubectl,
  mintUserKubeconfig,
  readState,
  startControlPlane,
} from "../../../src/controlplane/index.ts";
import type { ControlPlane, ControlPlaneState } from "../../../src/controlplane/index.ts";
import { spawnDaemon, stopDaemon } from "../../../src/controlplane/processes.ts";
import { writeState } from "../../../src/controlplane/state.ts";
import type { TestCluster } from "../../support/cluster.ts";

export class DedicatedPlane {
  readonly plane: ControlPlane;
  #state: ControlPlaneState;

  private constructor(plane: ControlPlane, state: ControlPlaneState) {
    this.plane = plane;
    this.#state = state;
  }

  static async start(): Promise<DedicatedPlane> {
    const plane = await startControlPlane();
    const state = await readState(plane.stateDir);
    if (state === undefined) throw new Error(`${plane.stateDir}: no state`);
    return new DedicatedPlane(plane, state);
  }

  get #apiserver(): { name: string; pid: number; bin: string } {
    const d = this.#state.daemons.find((x) => x.name === "kube-apiserver");
    if (d === undefined) throw new Error("no kube-apiserver in the plane's state");
    return d;
  }

  /** The API server's flags as it runs now (its command line), without the binary. */
  #apiserverArgs(): string[] {
    const argv = readFileSync(`/proc/${String(this.#apiserver.pid)}/cmdline`, "utf8")
      .split("\0")
      .filter(Boolean);
    return argv.slice(argv.indexOf(this.#apiserver.bin) + 1);
  }

  get etcdUrl(): string {
    const flag = this.#apiserverArgs().find((a) => a.startsWith("--etcd-servers="));
    if (flag === undefined) throw new Error("kube-apiserver runs without --etcd-servers");
    return flag.slice("--etcd-servers=".length).split(",")[0] ?? "";
  }

  get port(): number {
    return Number(new URL(this.plane.server).port);
  }

  /** Stops kube-apiserver (etcd keeps running); `start()` brings it back with the same flags. */
  async stopApiServer(): Promise<() => Promise<void>> {
    const d = this.#apiserver;
    const args = this.#apiserverArgs();
    await stopDaemon(d.pid, d.bin);
    return async () => {
      d.pid = await spawnDaemon({
        bin: d.bin,
        args,
        logFile: join(this.plane.stateDir, "kube-apiserver.log"),
        detached: false,
      });
      await writeState(this.#state);
    };
  }

  /** etcd's current revision, then a compaction at it: older resourceVersions are gone for good. */
  async compactEtcd(): Promise<number> {
    const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const res = await fetch(`${this.etcdUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`etcd ${path}: ${String(res.status)} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    const range = await post("/v3/kv/range", { key: Buffer.from("/").toString("base64"), count_only: true });
    const revision = Number((range.header as { revision?: string } | undefined)?.revision);
    await post("/v3/kv/compaction", { revision, physical: true });
    return revision;
  }

  async stop(): Promise<void> {
    const d = this.#apiserver;
    await stopDaemon(d.pid, d.bin);
    await this.plane.stop();
  }

  /** A kubeconfig for `user` whose server is `server` (e.g. a proxy in front of the API server). */
  async kubeconfigVia(user: "admin" | "alice", server: string): Promise<string> {
    const src = this.plane.kubeconfigs[user];
    const path = `${src}.via-${new URL(server).port}`;
    await copyFile(src, path);
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replaceAll(this.plane.server, server));
    return path;
  }

  /** The TestCluster view of this plane for the chaos stack. */
  cluster(): TestCluster {
    const plane = this.plane;
    const kubeconfigFor = (user: string): string => {
      const known = (plane.kubeconfigs as Record<string, string>)[user];
      if (known === undefined) throw new Error(`no kubeconfig for ${user}`);
      return known;
    };
    const kubeConfig = (user = "admin"): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigFor(user));
      return kc;
    };
    return {
      server: plane.server,
      stateDir: plane.stateDir,
      adminKubeconfig: kubeconfigFor("admin"),
      kubectlPath: join(plane.binDir, "kubectl"),
      kubeconfigFor,
      mintUser: (name, groups) => mintUserKubeconfig(this.#state, name, groups),
      kubectl: (args, opts = {}) =>
        kubectl(args, {
          binDir: plane.binDir,
          kubeconfig: kubeconfigFor(opts.as ?? "admin"),
          ...(opts.input === undefined ? {} : { input: opts.input }),
        }),
      kubeConfig,
      async createNamespace(prefix) {
        const name = `${prefix}-${randomBytes(4).toString("hex")}`;
        const body = Object.assign(new V1Namespace(), {
          metadata: Object.assign(new V1ObjectMeta(), { name }),
        });
        await kubeConfig("admin").makeApiClient(CoreV1Api).createNamespace({ body });
        return name;
      },
    };
  }
}
