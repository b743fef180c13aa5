// The stack every scenario runs on: a real control plane (kube-apiserver + etcd, started here and
// stopped at the end), the ARM emulator in its own process, and an admin Kubernetes client.
// Operators are started per scenario (see operator.ts).
import { join } from "node:path";
import { startControlPlane } from "../src/controlplane/index.ts";
import type { ControlPlane } from "../src/controlplane/index.ts";
import { ensureBundle } from "./bundle.ts";
import { startEmulatorProcess } from "./emulator.ts";
import type { EmulatorProcess } from "./emulator.ts";
import { KubeClient } from "./kube.ts";
import { startOperator } from "./operator.ts";
import type { OperatorProcess, OperatorSpec } from "./operator.ts";
import type { Reaper } from "./procs.ts";
import { OPERATOR_ENV, OPERATOR_NODE_OPTIONS } from "../src/runtime/node-options.ts";

export interface Stack {
  plane: ControlPlane;
  emulator: EmulatorProcess;
  kube: KubeClient;
  reaper: Reaper;
  /** When set, every operator runs with --cpu-prof and writes its profile to <dir>/<namespace>/. */
  cpuProfDir: string | undefined;
  /** What the operators run: the image's bundle, or the sources (--from-sources, --cpu-prof). */
  operatorCode: "bundle" | "sources";
  log(msg: string): void;
  operator(
    spec: Pick<OperatorSpec, "namespace" | "writeMode" | "resyncInterval" | "nodeArgs" | "extraArgs">,
  ): Promise<OperatorProcess>;
}

/** On a loaded machine a daemon occasionally dies during start-up; a fresh attempt then succeeds. */
async function startPlane(log: (msg: string) => void): Promise<ControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startControlPlane({
        logger: {
          info: (m: string) => {
            log(`control plane: ${m}`);
          },
        },
      });
    } catch (err) {
      if (attempt >= 3) throw err;
      log(
        `control plane start failed (attempt ${attempt}), retrying: ${(err as Error).message.split("\n")[0] ?? ""}`,
      );
    }
  }
}

export async function startStack(
  reaper: Reaper,
  log: (msg: string) => void,
  cpuProfDir?: string,
  fromSources = false,
): Promise<Stack> {
  const started = Date.now();
  // Operators run from the image's bundle; build it now if the sources changed since.
  await ensureBundle(log);
  const plane = await startPlane(log);
  reaper.add("control-plane", () => plane.stop());
  const emulator = await startEmulatorProcess(reaper);
  const kube = await KubeClient.fromKubeconfig(plane.kubeconfigs.admin);
  reaper.add("kube-client", () => {
    kube.close();
    return Promise.resolve();
  });
  log(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (emulator ${emulator.endpoint})`);
  return {
    plane,
    emulator,
    kube,
    reaper,
    cpuProfDir,
    operatorCode: fromSources || cpuProfDir !== undefined ? "sources" : "bundle",
    log,
    operator: (spec) =>
      startOperator(
        {
          ...spec,
          fromSources: fromSources || cpuProfDir !== undefined,
          nodeArgs:
            // The heap settings of the image and the chart: the operator is measured as it is shipped.
            // A scenario's own flags come after them (the last V8 flag wins), e.g. a larger heap.
            [
              ...OPERATOR_NODE_OPTIONS.split(" "),
              ...(spec.nodeArgs ?? []),
              ...(cpuProfDir === undefined
                ? []
                : ["--cpu-prof", `--cpu-prof-dir=${join(cpuProfDir, spec.namespace)}`]),
            ],
          // The image's and the chart's allocator setting.
          env: OPERATOR_ENV,
          kubeconfig: plane.kubeconfigs.admin,
          armEndpoint: emulator.endpoint,
          armCaFile: emulator.caFile,
        },
        reaper,
      ),
  };
}
