// The whole controller in process: its informers are in-memory, its Kubernetes writes land in them
// (and come back as watch events), ARM is in memory and time is a fake clock, so the work queues,
// batching, backoff and expiry wake-ups run as in production, only without waiting.
import { afterEach } from "@jest/globals";
import { Controller } from "../../../../src/operator/controller.ts";
import type { ShardOwnership } from "../../../../src/operator/shard/ownership.ts";
import type { RequestNotifier } from "../../../../src/notify/types.ts";
import { FakeClock } from "../../../../src/runtime/clock.ts";
import { createLogger } from "../../../../src/runtime/logger.ts";
import { MemoryAzure } from "../../../support/memory-azure.ts";
import { MemoryInformer, MemoryKube } from "../../../support/memory-kube.ts";
import type { AccessRequest, JitPolicy } from "./bench.ts";
import { NS, NSG, T0, shortName, sshPolicy } from "./bench.ts";

export interface StackOptions {
  /** batch-max-hold in ms (default 0: no batching). */
  batchMaxHoldMs?: number;
  /** How long each ARM write takes on the fake clock (default 400 ms). */
  writeMs?: number;
  /** Sharded (ADR 0018): NSGs are written only in the shards this holds. */
  sharding?: ShardOwnership;
  /** Receives the operator's notifications. */
  notify?: RequestNotifier;
}

export class Stack {
  readonly clock = new FakeClock(T0);
  readonly azure = new MemoryAzure();
  readonly kube = new MemoryKube();
  readonly controller: Controller;

  constructor(o: StackOptions = {}) {
    this.azure.latency(this.clock, o.writeMs ?? 400);
    const namespaces = new MemoryInformer();
    namespaces.put({ metadata: { name: NS } });
    this.controller = new Controller({
      policies: this.kube.policies,
      requests: this.kube.requests,
      scopes: new MemoryInformer(),
      namespaces,
      orphanSearch: false,
      allowUnscoped: true,
      azure: this.azure,
      kube: this.kube,
      clock: this.clock,
      log: createLogger("silent"),
      metrics: undefined,
      writeMode: "rule",
      resyncIntervalMs: 3_600_000,
      maxConcurrentNsgs: 4,
      requestRetentionMs: 3_600_000,
      deniedRetentionMs: 600_000,
      limits: { perRequester: 5, perNamespace: 50 },
      batchMaxHoldMs: o.batchMaxHoldMs ?? 0,
      instanceId: "",
      signing: { key: new Uint8Array(32).fill(9), createdAt: new Date(T0 - 86_400_000) },
      sharding: o.sharding,
      notify: o.notify,
    });
  }

  start(): void {
    this.controller.start();
  }

  stop(): Promise<void> {
    return this.controller.stop();
  }

  /** Let `ms` of fake time pass in `step` steps, running every reconcile that falls due. */
  run(ms: number, step = 50): Promise<void> {
    return this.clock.advanceAsync(ms, step);
  }

  create(kind: "JitPolicy", obj: JitPolicy): void;
  create(kind: "AccessRequest", obj: AccessRequest): void;
  create(kind: "JitPolicy" | "AccessRequest", obj: JitPolicy | AccessRequest): void {
    this.kube.apply(kind, obj);
  }

  request(name: string): AccessRequest | undefined {
    return this.kube.read("AccessRequest", `${NS}/${name}`) as AccessRequest | undefined;
  }

  policy(name = "ssh"): JitPolicy | undefined {
    return this.kube.read("JitPolicy", `${NS}/${name}`) as JitPolicy | undefined;
  }

  phase(name: string): string | undefined {
    return this.request(name)?.status?.phase;
  }

  rules(): string[] {
    return this.azure.rules(NSG).map((r) => `${shortName(r.name)}@${String(r.priority)}`);
  }

  /** ARM write attempts so far as "op subject outcome" (policy prefix cut). */
  writes(): string[] {
    return this.azure.writes.map((w) => `${w.op} ${shortName(w.subject)} ${w.outcome}`);
  }
}

export interface StackPerTest {
  /** The test's stack, stopped after the test. */
  make: (opts?: StackOptions) => Stack;
  /** The test's stack started over an empty NSG and the ssh policy, 2 s on: only the baseline deny. */
  started: (opts?: StackOptions) => Promise<Stack>;
}

/** For a describe block: the stack each test makes is stopped after it, even if the test failed. */
export function stackPerTest(): StackPerTest {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });
  const make = (opts?: StackOptions): Stack => (stack = new Stack(opts));
  return { make, started: (opts) => startedWithSshPolicy(make(opts)) };
}

async function startedWithSshPolicy(s: Stack): Promise<Stack> {
  s.azure.addNsg(NSG, []);
  s.create("JitPolicy", sshPolicy());
  s.start();
  await s.run(2000);
  if (s.rules().join() !== "deny-tcp@199")
    throw new Error(`expected only the baseline deny-tcp@199, got ${s.rules().join(", ")}`);
  return s;
}
