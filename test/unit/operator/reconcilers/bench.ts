// The three reconcilers wired as the controller wires them, over in-memory Azure and Kubernetes and a
// fake clock, without the work queues: a test runs one reconcile at a time and reads what each wrote,
// what it recorded in the ledger and which keys it woke. Every import of the operator's code for the
// reconciler tests is here, so a move of those files touches this block only.
import type { AccessRequest, JitPolicy } from "../../../../src/api/types.ts";
import { FINALIZER } from "../../../../src/api/types.ts";
import { AZURE_LIMITS } from "../../../../src/core/index.ts";
import type { SecurityRule } from "../../../../src/core/index.ts";
import { approvalVerifier, verifyTargets } from "../../../../src/core/approval-signature.ts";
import type { SigningKey } from "../../../../src/core/approval-signature.ts";
import { BindingIndex } from "../../../../src/operator/state/bindings.ts";
import { informerCaches } from "../../../../src/operator/state/caches.ts";
import { EventRecorder } from "../../../../src/kube/events.ts";
import { GrantIndex } from "../../../../src/operator/state/grant-index.ts";
import { objectKey } from "../../../../src/core/keys.ts";
import { policySpecIssues } from "../../../../src/core/request-checks.ts";
import { nsgKey } from "../../../../src/operator/state/keys.ts";
import { Ledger } from "../../../../src/operator/state/ledger.ts";
import type { NsgRecord } from "../../../../src/operator/state/ledger.ts";
import type { WriteMode } from "../../../../src/runtime/config.ts";
import { NsgReconciler } from "../../../../src/operator/nsg/reconciler.ts";
import { PolicyReconciler } from "../../../../src/operator/policy/reconciler.ts";
import { Prefetch } from "../../../../src/operator/nsg/prefetch.ts";
import { RequestReconciler } from "../../../../src/operator/request/reconciler.ts";
import { ScopeGate } from "../../../../src/operator/scope/gate.ts";
import { FakeClock } from "../../../../src/runtime/clock.ts";
import { createLogger } from "../../../../src/runtime/logger.ts";
import type { HandlerResult } from "../../../../src/runtime/queue.ts";
import { foreignRule } from "../fixtures.ts";
import { MemoryAzure } from "../../../support/memory-azure.ts";
import { MemoryKube } from "../../../support/memory-kube.ts";

export type { AccessRequest, HandlerResult, JitPolicy, NsgRecord, SecurityRule, WriteMode };
export { AZURE_LIMITS, FINALIZER, FakeClock, nsgKey };

export const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
export const SUB = "00000000-0000-0000-0000-000000000001";
const NSGS = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups`;
export const NSG = `${NSGS}/jump-nsg`;
export const NIC_NSG = `${NSGS}/web-1-nic-nsg`;
export const VM = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-1`;
export const NS = "team-a";
export const POLICY_KEY = `${NS}/ssh`;

/** A policy of one NSG target (port 22 from 203.0.113.0/24, band 100-199). */
export function sshPolicy(spec: Partial<JitPolicy["spec"]> = {}): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { name: "ssh", namespace: NS, uid: "uid-ssh", generation: 1 },
    spec: {
      targets: [{ networkSecurityGroupId: NSG, destinationAddressPrefixes: ["10.0.2.4/32"] }],
      ports: [
        {
          number: 22,
          protocol: "TCP",
          allowedSourceAddressPrefixes: ["203.0.113.0/24"],
          maxDuration: "PT3H",
        },
      ],
      priorityRange: { from: 100, to: 199 },
      nsgScope: "All",
      ...spec,
    },
  };
}

/** An undecided request of `sshPolicy` for port 22 from one address. */
export function sshRequest(name: string, source = "203.0.113.7/32", duration = "PT1H"): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      generation: 1,
      creationTimestamp: new Date(T0).toISOString(),
    },
    spec: {
      policyName: "ssh",
      ports: [22],
      sourceAddressPrefix: source,
      duration,
      justification: "test",
      requester: name,
    },
  };
}

/** `n` foreign rules below the band (priorities 1000 on): an NSG filled up to Azure's rule limit. */
export function foreignFiller(n: number): SecurityRule[] {
  return Array.from({ length: n }, (_, i) => foreignRule(`other-${String(i)}`, 1000 + i));
}

export { foreignRule };

/** A rule name with this policy's prefix cut ("deny-tcp", "tcp-22"); other names as they are. */
export function shortName(name: string): string {
  return name.replace(/^drawbridge-team-a-ssh-[0-9a-f]+-/, "");
}

export interface BenchOptions {
  writeMode?: WriteMode;
  /** batch-max-hold (0 disables batching). */
  maxHoldMs?: number;
  /** How long each ARM write takes on the fake clock (default 0). */
  writeMs?: number;
  retentionMs?: number;
  deniedRetentionMs?: number;
  /** Open requests per requester and per namespace (default 5 and 50). */
  limits?: { perRequester: number; perNamespace: number };
}

export class Bench {
  readonly clock = new FakeClock(T0);
  readonly azure = new MemoryAzure();
  readonly kube = new MemoryKube();
  readonly signing: SigningKey = { key: new Uint8Array(32).fill(7), createdAt: new Date(T0 - 86_400_000) };
  readonly ledger = new Ledger();
  readonly bindings = new BindingIndex((p) => verifyTargets(this.signing.key, p));
  readonly grants: GrantIndex;
  /** Keys the reconcilers asked to have run again: "nsg <key>", "nsg <key> +<ms>", "request <key>", "policy <key>". */
  readonly wakes: string[] = [];
  /** Undecided requests per policy, as the controller counts them for batching. */
  readonly undecided = new Map<string, number>();
  readonly nsg: NsgReconciler;
  readonly request: RequestReconciler;
  readonly policy: PolicyReconciler;
  readonly #events: EventRecorder;
  readonly #gate: ScopeGate;

  constructor(o: BenchOptions = {}) {
    const log = createLogger("silent");
    if (o.writeMs !== undefined) this.azure.latency(this.clock, o.writeMs);
    const caches = informerCaches(this.kube.policies, this.kube.requests);
    const isAuthentic = approvalVerifier(this.signing);
    // No JitScope binds the namespace and unscoped namespaces are allowed: every target is covered.
    const gate = new ScopeGate(
      { scopes: () => [], namespace: (name) => ({ name, labels: {} }) },
      { allowUnscoped: true },
    );
    this.#gate = gate;
    this.grants = new GrantIndex({
      policy: (k) => caches.policy(k),
      request: (k) => caches.request(k),
      requestsOf: (p) =>
        caches
          .requests()
          .filter((r) => policyKeyOf(r) === p)
          .map((r) => objectKey(r.metadata)),
      isAuthentic,
    });
    this.#events = new EventRecorder({ kube: this.kube, log });
    this.#keepIndexes();
    this.nsg = new NsgReconciler({
      azure: this.azure,
      bindings: this.bindings,
      grants: this.grants,
      ledger: this.ledger,
      prefetch: new Prefetch(this.clock),
      clock: this.clock,
      log,
      metrics: undefined,
      writeMode: o.writeMode ?? "rule",
      instanceId: "",
      getRequest: (k) => caches.request(k),
      undecided: (p) => this.undecided.get(p) ?? 0,
      settleLeft: () => 0,
      maxHoldMs: o.maxHoldMs ?? 0,
      wakeRequest: (k) => {
        this.wakes.push(`request ${k}`);
      },
      wakePolicy: (k) => {
        this.wakes.push(`policy ${k}`);
      },
    });
    this.request = new RequestReconciler({
      caches,
      bindings: this.bindings,
      grants: this.grants,
      ledger: this.ledger,
      kube: this.kube,
      events: this.#events,
      grantWaitMs: 0,
      observe: (obj) => {
        this.kube.requests.observe(obj);
      },
      clock: this.clock,
      log,
      metrics: undefined,
      retentionMs: o.retentionMs ?? 3_600_000,
      deniedRetentionMs: o.deniedRetentionMs ?? 600_000,
      limits: o.limits ?? { perRequester: 5, perNamespace: 50 },
      wakeNsg: (k, ms) => {
        this.wakes.push(ms === undefined ? `nsg ${k}` : `nsg ${k} +${String(ms)}`);
      },
      signing: this.signing,
      isAuthentic,
    });
    this.policy = new PolicyReconciler({
      caches,
      gate,
      bindings: this.bindings,
      ledger: this.ledger,
      azure: this.azure,
      kube: this.kube,
      events: this.#events,
      clock: this.clock,
      log,
      wakeNsg: (k) => {
        this.wakes.push(`nsg ${k}`);
      },
      signing: this.signing,
    });
  }

  /** The binding and grant indexes follow the stored objects, as the controller keeps them. */
  #keepIndexes(): void {
    const onPolicy = (obj: unknown, deleted: boolean): void => {
      const p = obj as JitPolicy;
      const key = objectKey(p.metadata);
      this.grants.invalidatePolicy(key);
      if (deleted) this.bindings.remove(key);
      else this.bindings.upsert(this.#gate.view(p), policySpecIssues(p).length === 0);
    };
    this.kube.policies.on("add", (o) => {
      onPolicy(o, false);
    });
    this.kube.policies.on("update", (o) => {
      onPolicy(o, false);
    });
    this.kube.policies.on("delete", (o) => {
      onPolicy(o, true);
    });
    const onRequest = (obj: unknown): void => {
      this.grants.invalidateRequest(objectKey((obj as AccessRequest).metadata));
    };
    for (const e of ["add", "update", "delete"] as const) this.kube.requests.on(e, onRequest);
  }

  /** Store a policy and reconcile it once (finalizer, signed resolution), as the operator would. */
  async addPolicy(p: JitPolicy = sshPolicy()): Promise<void> {
    this.kube.apply("JitPolicy", p);
    await this.policy.reconcile(objectKey(p.metadata));
    await this.policy.reconcile(objectKey(p.metadata));
  }

  /** Create a request and run the request reconciler on it (the decision, approval included). */
  async addRequest(r: AccessRequest): Promise<void> {
    this.kube.apply("AccessRequest", r);
    await this.request.reconcile(objectKey(r.metadata));
  }

  storedRequest(name: string): AccessRequest | undefined {
    return this.kube.read("AccessRequest", `${NS}/${name}`) as AccessRequest | undefined;
  }

  storedPolicy(name = "ssh"): JitPolicy | undefined {
    return this.kube.read("JitPolicy", `${NS}/${name}`) as JitPolicy | undefined;
  }

  /** The ledger's record of an NSG by its ARM id. */
  record(nsgId = NSG): NsgRecord | undefined {
    return this.ledger.get(nsgKey(nsgId));
  }

  reconcileNsg(nsgId = NSG): Promise<HandlerResult> {
    return this.nsg.reconcile(nsgKey(nsgId));
  }

  reconcileRequest(name: string): Promise<HandlerResult> {
    return this.request.reconcile(`${NS}/${name}`);
  }

  reconcilePolicy(name = "ssh"): Promise<HandlerResult> {
    return this.policy.reconcile(`${NS}/${name}`);
  }

  /** Events written so far (they are written in the background), as "Kind/name Type Reason". */
  async events(): Promise<string[]> {
    await this.#events.flush();
    return this.kube.events.map((e) => `${e.kind} ${e.name} ${e.type} ${e.reason}`);
  }

  /** The NSG's rules as "name@priority", policy prefix cut. */
  rules(nsgId = NSG): string[] {
    return this.azure.rules(nsgId).map((r) => `${shortName(r.name)}@${String(r.priority)}`);
  }

  /** Write attempts so far (and forgets them), as "op subject outcome", policy prefix cut. */
  takeWrites(): string[] {
    return this.azure.writes
      .splice(0)
      .map((w) => `${w.op} ${w.subject.split(",").map(shortName).join(",")} ${w.outcome}`);
  }

  /** Create a request and carry it to Active: approval, NSG write, placement seen. */
  async activeRequest(name: string, source?: string): Promise<void> {
    await this.addRequest(sshRequest(name, source));
    await this.reconcileNsg();
    await this.reconcileRequest(name);
    const phase = this.storedRequest(name)?.status?.phase;
    if (phase !== "Active") throw new Error(`request ${name} is ${String(phase)}, not Active`);
  }

  takeWakes(): string[] {
    return this.wakes.splice(0);
  }
}

function policyKeyOf(r: AccessRequest): string {
  return `${r.metadata.namespace ?? ""}/${r.spec.policyName}`;
}
