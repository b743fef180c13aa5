// `drawbridge cluster up|env|down`: a local control plane in the background for developers and
// the demo. `up` and `env` end with `KUBECONFIG=<admin kubeconfig>`, so
// `export $(npm run -s cluster -- env | tail -1)` points kubectl at it.
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ControlPlane } from "./controlplane.ts";
import { attachControlPlane, startControlPlane, stopStateDir } from "./controlplane.ts";

const USAGE = `usage: drawbridge cluster <up|env|down> [--state-dir <dir>] [--crds <dir>]

  up    start a control plane in the background (or reuse the running one)
  env   print the kubeconfig lines of the running control plane
  down  stop it and remove its state
`;

function defaultStateDir(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  return join(cache, "drawbridge", "cluster");
}

function printEnv(cp: ControlPlane): void {
  process.stdout.write(
    [
      `# drawbridge local control plane ${cp.server} (state ${cp.stateDir})`,
      `DRAWBRIDGE_KUBECTL=${join(cp.binDir, "kubectl")}`,
      `ALICE_KUBECONFIG=${cp.kubeconfigs.alice}`,
      `BOB_KUBECONFIG=${cp.kubeconfigs.bob}`,
      `KUBECONFIG=${cp.kubeconfigs.admin}`,
      "",
    ].join("\n"),
  );
}

async function up(stateDir: string, crdsDir: string | undefined): Promise<number> {
  const running = await attachControlPlane(stateDir);
  if (running !== undefined) {
    process.stderr.write("drawbridge: reusing the running control plane\n");
    printEnv(running);
    return 0;
  }
  // Leftovers of a plane that died or was half started.
  await stopStateDir(stateDir);
  const onSignal = (): void => {
    void stopStateDir(stateDir).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  try {
    const logger = { info: (m: string) => process.stderr.write(`drawbridge: ${m}\n`) };
    const cp = await startControlPlane({ stateDir, detached: true, logger, ...(crdsDir ? { crdsDir } : {}) });
    printEnv(cp);
    return 0;
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  }
}

async function env(stateDir: string): Promise<number> {
  const running = await attachControlPlane(stateDir);
  if (running === undefined) {
    process.stderr.write(
      `drawbridge: no local control plane is running (state dir ${stateDir}); start one with \`npm run -s cluster -- up\`\n`,
    );
    return 1;
  }
  printEnv(running);
  return 0;
}

async function down(stateDir: string): Promise<number> {
  const stopped = await stopStateDir(stateDir);
  process.stderr.write(
    stopped ? "drawbridge: control plane stopped\n" : "drawbridge: no control plane was running\n",
  );
  return 0;
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "state-dir": { type: "string" },
        crds: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    process.stderr.write(`drawbridge cluster: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const stateDir = values["state-dir"] ?? defaultStateDir();
  switch (positionals.join(" ")) {
    case "up":
      return up(stateDir, values.crds);
    case "env":
      return env(stateDir);
    case "down":
      return down(stateDir);
    default:
      process.stderr.write(`drawbridge cluster: expected one of up, env, down\n\n${USAGE}`);
      return 2;
  }
}
