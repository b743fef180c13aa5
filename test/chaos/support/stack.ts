// One chaos estate: the run's shared control plane (or a dedicated one), a fresh namespace where
// alice may create AccessRequests, an in-process ARM emulator seeded with the demo estate plus the
// chaos NSGs, the chaos policy, and the invariant monitor. `close()` stops everything it started.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEmulator } from "../../../src/emulator/index.ts";
import type { EmulatorOptions, RunningEmulator } from "../../../src/emulator/index.ts";
import { eventually } from "../../support/poll.ts";
import { aliceRbacYaml } from "../../support/alice-rbac.ts";
import { scopeYaml } from "../../support/scope.ts";
import type { TestCluster } from "../../support/cluster.ts";
import { BAND, SUB, chaosNsgDocs, chaosNsgId, chaosPolicy } from "./estate.ts";
import { foreignOf } from "./invariants.ts";
import type { Expectations, Rule } from "./invariants.ts";
import { Kube } from "./kube.ts";
import { Monitor, readNsgs } from "./monitor.ts";
import { ROOT, startReplica } from "./operator.ts";
import type { OperatorTarget, Replica, ReplicaOptions } from "./operator.ts";

export interface StackOptions {
  nsgs: number;
  emulator?: Omit<EmulatorOptions, "seedFile" | "seed">;
  /** Revoke bound the invariants allow after expiresAt. */
  boundMs: number;
}

export class ChaosStack {
  readonly cluster: TestCluster;
  readonly emulator: RunningEmulator;
  readonly ns: string;
  readonly kube: Kube;
  readonly nsgIds: string[];
  readonly expectations: Expectations;
  readonly monitor: Monitor;
  readonly replicas: Replica[] = [];

  private constructor(cluster: TestCluster, emulator: RunningEmulator, ns: string, opts: StackOptions) {
    this.cluster = cluster;
    this.emulator = emulator;
    this.ns = ns;
    this.kube = new Kube(cluster.kubeConfig("admin"), cluster.kubeConfig("alice"), ns);
    this.nsgIds = Array.from({ length: opts.nsgs }, (_, i) => chaosNsgId(i));
    const seeded = readNsgs(emulator, this.nsgIds);
    this.expectations = {
      foreign: new Map([...seeded].map(([id, rules]): [string, Rule[]] => [id, foreignOf(rules)])),
      band: { ...BAND },
      policyNsgs: this.nsgIds,
      boundMs: opts.boundMs,
      closedSeen: new Map(),
      submitted: new Set(),
    };
    this.monitor = new Monitor({
      emulator,
      kube: this.kube,
      nsgIds: this.nsgIds,
      expectations: this.expectations,
    });
  }

  static async start(cluster: TestCluster, prefix: string, opts: StackOptions): Promise<ChaosStack> {
    const emulator = await startEmulator({
      throttle: false,
      recordWrites: true,
      ...opts.emulator,
      seedFile: join(ROOT, "examples", "seed.yaml"),
      seed: chaosNsgDocs(opts.nsgs),
    });
    try {
      const ns = await cluster.createNamespace(prefix);
      const r = await cluster.kubectl(["apply", "-f", "-"], { input: aliceRbacYaml(ns) });
      if (r.code !== 0) throw new Error(`alice's RBAC: ${r.stderr}`);
      // The platform admin's JitScope: without one the operator opens nothing in the namespace.
      const s = await cluster.kubectl(["apply", "-f", "-"], {
        input: scopeYaml(ns, [ns], [`/subscriptions/${SUB}`]),
      });
      if (s.code !== 0) throw new Error(`the namespace's JitScope: ${s.stderr}`);
      return new ChaosStack(cluster, emulator, ns, opts);
    } catch (err) {
      await emulator.close();
      throw err;
    }
  }

  get target(): OperatorTarget {
    return {
      kubeconfig: this.cluster.adminKubeconfig,
      armEndpoint: this.emulator.endpoint,
      armCaFile: this.emulator.caFile,
      namespace: this.ns,
    };
  }

  startOperator(opts: ReplicaOptions = {}): Replica {
    const replica = startReplica(this.target, opts);
    this.replicas.push(replica);
    return replica;
  }

  async applyPolicy(): Promise<void> {
    await this.kube.applyPolicy(chaosPolicy(this.ns, this.nsgIds.length));
  }

  /** Writes by a client (not the foreign writer) that changed a rule drawbridge does not own. */
  foreignTouches(): string[] {
    return this.emulator
      .writeLog()
      .filter((w) => w.actor === "api")
      .flatMap((w) => w.changed.filter((n) => !n.startsWith("drawbridge-")).map((n) => `${w.nsgId}: ${n}`));
  }

  /** Operator output of every replica started, for a failure's diagnosis. */
  logs(lines = 60): string {
    return this.replicas
      .map((r) => `--- ${r.identity} ---\n${r.logs().trimEnd().split("\n").slice(-lines).join("\n")}`)
      .join("\n");
  }

  async close(): Promise<void> {
    await this.monitor.stop();
    for (const r of this.replicas) await r.kill();
    await this.emulator.close();
    await this.cluster.kubectl(["delete", "jitscope", this.ns, "--ignore-not-found", "--wait=false"]);
    // Kept for diagnosis (gitignored); each run's namespace is unique.
    const dir = join(ROOT, ".state", "chaos-logs");
    mkdirSync(dir, { recursive: true });
    for (const r of this.replicas) writeFileSync(join(dir, `${this.ns}-${r.identity}.log`), r.logs());
    writeFileSync(join(dir, `${this.ns}-nsgs.log`), this.monitor.timeline.join("\n"));
  }
}

/** Poll until fn returns a value other than undefined/false; throws naming `what` after timeoutMs. */
export function waitFor<T>(
  what: string,
  fn: () => Promise<T> | T,
  timeoutMs: number,
  stepMs = 200,
): Promise<Exclude<T, false | undefined>> {
  return eventually(what, fn, timeoutMs, stepMs);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
