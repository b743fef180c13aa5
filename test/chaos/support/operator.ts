// The operator as a child process (`node bin/drawbridge.js run`), as it runs in production: its own
// Kubernetes and ARM clients, informers, queue and (optionally) leader election. Replicas can be
// SIGKILLed and restarted; every child is killed when the test process exits, whatever happens.
import type { ChildProcess } from "node:child_process";
import { OperatorProcess, REPO_ROOT, operatorChild } from "../../support/operator-process.ts";
import type { OperatorExit } from "../../support/operator-process.ts";

export const ROOT = REPO_ROOT;

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
  /** NSG shards over the replicas (needs `leader`); 1 when undefined. */
  shards?: number;
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

export class Replica extends OperatorProcess {
  readonly identity: string;
  readonly startedAt = Date.now();
  /** When the replica logged that it leads (epoch ms), if it did. */
  ledAt: number | undefined;
  /** When kill() was called (epoch ms). */
  killedAt: number | undefined;

  constructor(child: ChildProcess, identity: string) {
    super(child, { maxLogChars: 2_000_000, stopTimeoutMs: 10_000 });
    this.identity = identity;
    this.onOutput((text) => {
      if (this.ledAt === undefined && text.includes("leading: starting reconcilers")) this.ledAt = Date.now();
    });
    void this.exited.then(() => live.delete(child));
  }

  override async kill(): Promise<OperatorExit> {
    if (this.running) this.killedAt = Date.now();
    return super.kill();
  }

  /** Log lines (pino JSON) whose msg contains `text`. */
  count(text: string): number {
    return this.lines(text).length;
  }
}

export function startReplica(t: OperatorTarget, opts: ReplicaOptions = {}): Replica {
  installExitHook();
  const identity = opts.identity ?? `chaos-${String(Date.now())}`;
  const leader = opts.leader;
  const args = [
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
    `--shards=${String(opts.shards ?? 1)}`,
    `--log-level=${process.env.CHAOS_LOG_LEVEL ?? "info"}`,
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
  const child = operatorChild(args);
  live.add(child);
  return new Replica(child, identity);
}
