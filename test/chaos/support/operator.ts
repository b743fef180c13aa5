// The operator as a child process (`node bin/drawbridge.js run`), as it runs in production: its own
// Kubernetes and ARM clients, informers, queue and (optionally) leader election. Replicas can be
// SIGKILLed and restarted; every child is killed when the test process exits, whatever happens.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..", "..");

export interface OperatorTarget {
  kubeconfig: string;
  armEndpoint: string;
  armCaFile: string;
  namespace: string;
}

export interface ReplicaOptions {
  writeMode?: "rule" | "nsg";
  resyncInterval?: string;
  identity?: string;
  /** Leader election in `namespace` with short timings; off when undefined. */
  leader?: { id: string; leaseDuration: string; renewDeadline: string; retryPeriod: string };
  maxConcurrentNsgs?: number;
  /** Another kubeconfig than the target's (e.g. through a proxy). */
  kubeconfig?: string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of live) c.kill("SIGKILL");
  });
}

export class Replica {
  readonly child: ChildProcess;
  readonly identity: string;
  readonly startedAt = Date.now();
  output = "";
  /** When the replica logged that it leads (epoch ms), if it did. */
  ledAt: number | undefined;
  readonly exited: Promise<void>;

  constructor(child: ChildProcess, identity: string) {
    this.child = child;
    this.identity = identity;
    const collect = (b: Buffer): void => {
      const text = b.toString();
      if (this.ledAt === undefined && text.includes("leading: starting reconcilers")) this.ledAt = Date.now();
      this.output += text;
      if (this.output.length > 4_000_000) this.output = this.output.slice(-2_000_000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        live.delete(child);
        resolve();
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** When kill() was called (epoch ms). */
  killedAt: number | undefined;

  async kill(): Promise<void> {
    if (!this.running) return;
    this.killedAt = Date.now();
    this.child.kill("SIGKILL");
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Log lines (pino JSON) whose msg contains `text`. */
  count(text: string): number {
    return this.output.split("\n").filter((l) => l.includes(text)).length;
  }
}

export function startReplica(t: OperatorTarget, opts: ReplicaOptions = {}): Replica {
  installExitHook();
  const identity = opts.identity ?? `chaos-${String(Date.now())}`;
  const leader = opts.leader;
  const args = [
    "--disable-warning=ExperimentalWarning",
    join(ROOT, "bin", "drawbridge.js"),
    "run",
    `--kubeconfig=${opts.kubeconfig ?? t.kubeconfig}`,
    `--arm-endpoint=${t.armEndpoint}`,
    `--arm-ca-file=${t.armCaFile}`,
    `--namespace=${t.namespace}`,
    "--metrics-bind-address=0",
    // Probes on (any free port), as in the chart's Deployment: the listening socket also keeps the
    // process alive. (With both servers disabled, the process exits when a watch drop leaves only
    // unref'd retry timers; reported to the runtime's owner.)
    "--health-probe-bind-address=127.0.0.1:0",
    `--write-mode=${opts.writeMode ?? "rule"}`,
    `--resync-interval=${opts.resyncInterval ?? "30s"}`,
    `--max-concurrent-nsgs=${String(opts.maxConcurrentNsgs ?? 8)}`,
    `--identity=${identity}`,
    "--log-level=info",
    "--scope-index-name=",
    // Requests here are made as any requester: the requester admission policy is not what this runs.
    "--allow-unguarded-namespaces",
    // One requester makes hundreds of requests here: the volume limits are tested in volume-attack.test.ts.
    "--max-open-requests-per-requester=1000000",
    "--max-open-requests-per-namespace=1000000",
    ...(leader === undefined
      ? ["--leader-elect=false", `--leader-election-namespace=${t.namespace}`]
      : [
          "--leader-elect=true",
          `--leader-election-namespace=${t.namespace}`,
          `--leader-election-id=${leader.id}`,
          `--lease-duration=${leader.leaseDuration}`,
          `--renew-deadline=${leader.renewDeadline}`,
          `--retry-period=${leader.retryPeriod}`,
        ]),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  return new Replica(child, identity);
}
