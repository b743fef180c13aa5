// Wires the reconcilers to the informer caches and the work queues: informer events keep the binding
// and grant indexes current and queue keys (never objects); three queues (NSGs, requests, policies)
// run the reconcilers; the resync loop re-reads every NSG periodically. Only the leader runs this.
import { ApiException } from "@kubernetes/client-node";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { AccessApproval, AccessRequest, JitPolicy, JitScope } from "../api/types.ts";
import type { RequestNotifier } from "../notify/types.ts";
import type { AzurePort } from "../azure/port.ts";
import { BindingIndex } from "./state/bindings.ts";
import { approvalVerifier, verifyTargets } from "../core/approval-signature.ts";
import type { SigningKey } from "../core/approval-signature.ts";
import { informerCaches } from "./state/caches.ts";
import type { Caches } from "./state/caches.ts";
import { UndecidedRequests } from "./nsg/batching.ts";
import { EventRecorder } from "../kube/events.ts";
import { GrantIndex } from "./state/grant-index.ts";
import { kubeErrorFields } from "../runtime/kube-errors.ts";
import { objectKey, policyKeyOf } from "../core/keys.ts";
import { policySpecIssues } from "../core/request-checks.ts";
import type { KubeWriter } from "../kube/kube.ts";
import { WriteSlots, boundedWriter } from "../kube/bounded-writer.ts";
import { Ledger } from "./state/ledger.ts";
import type { WriteMode } from "../runtime/config.ts";
import { NsgReconciler } from "./nsg/reconciler.ts";
import { PolicyReconciler } from "./policy/reconciler.ts";
import { Prefetch } from "./nsg/prefetch.ts";
import { isTerminal } from "../core/phases.ts";
import type { RequestLimits } from "./request/decision.ts";
import { RequestReconciler } from "./request/reconciler.ts";
import { ApprovalsInFlight } from "./request/in-flight.ts";
import { ResyncLoop } from "./nsg/resync.ts";
import { TakeoverLists } from "./nsg/takeover.ts";
import type { GuardNamespace } from "./guard/guard.ts";
import type { AdmissionGuard } from "./guard/state.ts";
import { ScopeGate } from "./scope/gate.ts";
import type { NamespaceInfo } from "./scope/gate.ts";
import type { ScopeIndexPublisher } from "./scope/scope-index.ts";
import { changedScopeStatuses } from "./scope/status.ts";
import type { ScopeStatusWriter } from "./scope/status.ts";
import { scopedCaches } from "./scope/scoped-caches.ts";
import type { Clock, Timer } from "../runtime/clock.ts";
import type { Informer } from "../runtime/informer.ts";
import type { Logger } from "../runtime/logger.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { WorkQueue } from "../runtime/queue.ts";
import type { Handler, HandlerResult } from "../runtime/queue.ts";
import type { ShardOwnership } from "./shard/ownership.ts";

/** Longest the first resync waits for policies with an unverified resolution to be re-resolved. */
export const UNRESOLVED_WAIT_MS = 60_000;
/** Request reconciles at once: enough that a burst of 1,000 is decided without waiting for slots. */
const REQUEST_SLOTS = 1024;
/** Request writes (status, finalizer, delete) in flight to the API server at once. */
const REQUEST_WRITE_SLOTS = 128;
/** Events held while request writes run: a burst of several thousand requests' worth (~0.5 KB each). */
const EVENT_BACKLOG = 20_000;
/**
 * How long after its decision an approval's status write waits for the NSG rules so that one write
 * says approved and Active (ADR 0021): one NSG hold and write at the default --batch-max-hold.
 */
const GRANT_WAIT_MS = 2_000;

export interface ControllerOptions {
  policies: Informer<KubernetesObject>;
  requests: Informer<KubernetesObject>;
  /** JitScopes (cluster-scoped) and Namespaces (for their labels): what each namespace may target. */
  scopes: Informer<KubernetesObject>;
  namespaces: Informer<KubernetesObject>;
  /** Remove this instance's rules from NSGs no binding reaches (resync.ts says when not). */
  orphanSearch: boolean;
  /** Leave namespaces that no JitScope binds unrestricted (explicit opt-out). */
  allowUnscoped: boolean;
  /** Whether the requester admission policy guards each namespace (undefined: not checked). */
  admissionGuard?: AdmissionGuard | undefined;
  /** AccessApprovals (undefined: none are read, and requests that need approval wait). */
  approvals?: Informer<KubernetesObject> | undefined;
  /** Whether the approver admission policy guards each namespace (undefined: none is, nothing counts). */
  approvalGuard?: AdmissionGuard | undefined;
  /** Where request notifications go (fire-and-forget). */
  notify?: RequestNotifier | undefined;
  /** The namespaces the operator serves, with labels, for the guard's refresh. */
  servedNamespaces?: () => GuardNamespace[];
  /** Writes a JitScope's status (undefined: statuses are not written). */
  writeScopeStatus?: ScopeStatusWriter | undefined;
  /** Publishes the admission policy's scope index (undefined: not published). */
  scopeIndex?: ScopeIndexPublisher | undefined;
  azure: AzurePort;
  kube: KubeWriter;
  clock: Clock;
  log: Logger;
  metrics: Metrics | undefined;
  writeMode: WriteMode;
  resyncIntervalMs: number;
  maxConcurrentNsgs: number;
  requestRetentionMs: number;
  /** Retention of Denied requests and of those closed before approval. */
  deniedRetentionMs: number;
  /** Open (Pending or Active) requests per requester and per namespace; more are Denied. */
  limits: RequestLimits;
  /** Longest an NSG write waits for a burst's undecided requests (0 disables). */
  batchMaxHoldMs: number;
  /** This operator instance's id ("" = the default instance): the NSG reconciler touches only its rules. */
  instanceId: string;
  /** The operator's signing key (ADR 0012): approvals and resolutions it writes are signed with it. */
  signing: SigningKey;
  /**
   * Sharded (ADR 0018): NSGs are written only in held shards, and requests, policies and scopes are
   * decided only after startDeciding(). Undefined: one leader does everything (start() decides).
   */
  sharding?: ShardOwnership | undefined;
}

/** What a request change means for the NSGs: only these fields change the grant set. */
function grantFingerprint(r: AccessRequest | undefined): string {
  if (r === undefined) return "";
  return JSON.stringify([
    r.status?.startTime,
    r.status?.expiresAt,
    r.status?.approvalSignature,
    // Pending -> Active changes no grant; only a closing phase ends one.
    isTerminal(r.status?.phase),
    r.spec.revoked,
    r.metadata.deletionTimestamp,
    r.spec.ports,
    r.spec.sourceAddressPrefix,
    r.spec.targets,
  ]);
}

/**
 * Whether a policy change can change its requests' grants: new, being deleted, or a new spec (its
 * generation; the spec itself where an object carries no generation). Status and labels cannot.
 */
export function grantInputsChanged(old: JitPolicy | undefined, p: JitPolicy): boolean {
  if (old === undefined) return true;
  if (old.metadata.deletionTimestamp !== p.metadata.deletionTimestamp) return true;
  const [was, now] = [old.metadata.generation, p.metadata.generation];
  if (was !== undefined && now !== undefined) return was !== now;
  return JSON.stringify(old.spec) !== JSON.stringify(p.spec);
}

export class Controller {
  readonly #o: ControllerOptions;
  /** The informer caches as stored; `scoped` is what reconcilers act on. */
  readonly caches: Caches;
  readonly scoped: Caches;
  readonly gate: ScopeGate;
  readonly #signatures = new Map<string, string>();
  readonly bindings: BindingIndex;
  readonly ledger = new Ledger();
  readonly #undecided = new UndecidedRequests();
  readonly grants: GrantIndex;
  /** Approvals decided whose status write is in flight; the grant index sees them (ADR 0016). */
  readonly #inFlight = new ApprovalsInFlight((key) => {
    this.#onInFlight(key);
  });
  readonly nsgQueue: WorkQueue;
  readonly requestQueue: WorkQueue;
  readonly policyQueue: WorkQueue;
  readonly #resync: ResyncLoop;
  readonly #takeover: TakeoverLists;
  /** While the grant index takes in the cached requests after start() (in slices): its end. */
  #grantsIndexed: Promise<void> | undefined;
  readonly #events: EventRecorder;
  /** The request reconciler's bound on its Kubernetes writes; Events yield to them. */
  readonly #requestSlots = new WriteSlots(REQUEST_WRITE_SLOTS);
  readonly #unsubscribe: (() => void)[] = [];
  /** Policies not yet re-resolved since start whose status.targets did not verify. */
  #unresolved = new Set<string>();
  #resyncTimer: Timer | undefined;
  #resyncStarted = false;
  #stopping = false;
  /** Requests, policies and scopes are decided (and their statuses written) only while true. */
  #deciding = false;

  constructor(o: ControllerOptions) {
    this.#o = o;
    this.bindings = new BindingIndex((p) => verifyTargets(o.signing.key, p));
    const isAuthentic = approvalVerifier(o.signing);
    this.caches = informerCaches(o.policies, o.requests);
    this.gate = new ScopeGate(
      {
        scopes: () => o.scopes.list() as unknown as JitScope[],
        namespace: (n) => namespaceInfo(o.namespaces, n),
      },
      { allowUnscoped: o.allowUnscoped },
    );
    this.scoped = scopedCaches(this.caches, this.gate);
    const caches = this.scoped;
    this.grants = new GrantIndex({
      policy: (k) => caches.policy(k),
      request: (k) => this.#inFlight.overlay(caches.request(k)),
      requestsOf: (policyKey) => caches.requestsOf(policyKey),
      isAuthentic,
    });
    const onError = (name: string) => (key: string, err: unknown, retryInMs: number) => {
      o.log.warn(
        // A Kubernetes error's own text holds every response header: log its code, reason and message.
        err instanceof ApiException
          ? { controller: name, key, retryInMs, ...kubeErrorFields(err) }
          : { controller: name, key, retryInMs, err: err instanceof Error ? err.message : String(err) },
        "reconcile failed",
      );
    };
    const queue = (name: string, concurrency: number): WorkQueue =>
      new WorkQueue({
        clock: o.clock,
        concurrency,
        metrics: o.metrics?.queueMetrics(name),
        onError: onError(name),
      });
    // Events wait while request writes run (a burst's approvals first): the backlog holds a burst's.
    this.#events = new EventRecorder({
      kube: o.kube,
      log: o.log.child({ component: "events" }),
      yieldTo: this.#requestSlots,
      maxQueued: EVENT_BACKLOG,
      now: () => o.clock.now(),
    });
    this.nsgQueue = queue("nsg", o.maxConcurrentNsgs);
    // Requests only talk to the API server; a burst approved quickly lands in few coalesced NSG writes.
    // A reconcile holds its slot through its writes, and the NSGs plan with an approval from its
    // decision (ADR 0016): so the slots are many (a burst is decided at once) and the bound on the
    // API server is on the writes themselves (requestWrites, 128 in flight).
    this.requestQueue = queue("accessrequest", REQUEST_SLOTS);
    this.policyQueue = queue("jitpolicy", 4);
    const prefetch = new Prefetch(o.clock);
    // Sharded: the NSGs of a shard taken over are planned from a list begun after the take-over.
    this.#takeover = new TakeoverLists({
      azure: o.azure,
      bindings: this.bindings,
      prefetch,
      clock: o.clock,
      log: o.log.child({ controller: "takeover" }),
      wakeNsg: (k) => {
        this.nsgQueue.add(k);
      },
    });
    const wakeNsg = (k: string, afterMs?: number): void => {
      if (afterMs === undefined) this.nsgQueue.add(k);
      else this.nsgQueue.addAfter(k, afterMs);
    };
    this.nsgReconciler = new NsgReconciler({
      azure: o.azure,
      bindings: this.bindings,
      grants: this.grants,
      ledger: this.ledger,
      prefetch,
      clock: o.clock,
      log: o.log.child({ controller: "nsg" }),
      metrics: o.metrics,
      writeMode: o.writeMode,
      instanceId: o.instanceId,
      getRequest: (k) => this.caches.request(k),
      undecided: (p) => this.#undecided.count(p),
      settleLeft: (p) => this.#undecided.settleLeft(p, o.clock.now().getTime()),
      maxHoldMs: o.batchMaxHoldMs,
      wakeRequest: (k) => {
        this.requestReconciler.changed(k);
        this.requestQueue.add(k);
      },
      wakePolicy: (k) => {
        this.policyQueue.add(k);
      },
    });
    this.requestReconciler = new RequestReconciler({
      caches: this.scoped,
      admissionGuard: (ns) => o.admissionGuard?.isGuarded(ns) ?? { ok: true },
      scopeVerdict: (r) => {
        const raw = this.caches.policy(policyKeyOf(r));
        return raw === undefined ? undefined : this.gate.requestVerdict(r, raw);
      },
      bindings: this.bindings,
      grants: this.grants,
      ledger: this.ledger,
      kube: boundedWriter(o.kube, this.#requestSlots),
      events: this.#events,
      observe: (obj) => {
        o.requests.observe(obj);
      },
      clock: o.clock,
      log: o.log.child({ controller: "accessrequest" }),
      metrics: o.metrics,
      retentionMs: o.requestRetentionMs,
      deniedRetentionMs: o.deniedRetentionMs,
      limits: o.limits,
      wakeNsg,
      signing: o.signing,
      isAuthentic,
      // approvalsFor keeps only the namespace and request asked about.
      approvals: () => (o.approvals?.list() ?? []) as unknown as AccessApproval[],
      approvalGuard: (ns) => o.approvalGuard?.isGuarded(ns) ?? { ok: false },
      ...(o.notify === undefined ? {} : { notify: o.notify }),
      inFlight: this.#inFlight,
      grantWaitMs: GRANT_WAIT_MS,
      ...(o.sharding === undefined ? {} : { writesNsg: (k: string) => o.sharding?.owns(k) ?? true }),
    });
    this.policyReconciler = new PolicyReconciler({
      caches: this.caches,
      gate: this.gate,
      bindings: this.bindings,
      ledger: this.ledger,
      azure: o.azure,
      kube: o.kube,
      events: this.#events,
      clock: o.clock,
      log: o.log.child({ controller: "jitpolicy" }),
      wakeNsg: (k) => {
        this.nsgQueue.add(k);
      },
      signing: o.signing,
    });
    this.#resync = new ResyncLoop({
      azure: o.azure,
      bindings: this.bindings,
      prefetch,
      clock: o.clock,
      log: o.log.child({ controller: "resync" }),
      metrics: o.metrics,
      intervalMs: o.resyncIntervalMs,
      instanceId: o.instanceId,
      orphans: o.orphanSearch,
      // Orphans are looked for in every subscription a scope grants, not only those still bound.
      subscriptions: () =>
        o.orphanSearch ? scopeSubscriptions(o.scopes.list() as unknown as JitScope[]) : [],
      // Sharded, a replica resyncs only its own NSGs; the decider observes others when it must.
      wakeNsg: (k) => {
        if (o.sharding === undefined || o.sharding.owns(k)) this.nsgQueue.add(k);
      },
      wakeAllPolicies: () => {
        for (const p of this.caches.policies()) this.policyQueue.add(objectKey(p.metadata));
        // Every pass re-publishes the index too, so a hand-edited or deleted index is restored,
        // and re-checks the admission guard.
        if (!this.#deciding) return;
        void o.scopeIndex?.publish();
        void this.#refreshGuard();
      },
    });
  }

  readonly nsgReconciler: NsgReconciler;
  readonly requestReconciler: RequestReconciler;
  readonly policyReconciler: PolicyReconciler;

  /** Subscribe to the (synced) informers, index what they hold, start the queues and the resync. */
  start(): void {
    const o = this.#o;
    this.#subscribe(o.policies, (obj, old, deleted) => {
      this.#onPolicy(obj as unknown as JitPolicy, old as unknown as JitPolicy | undefined, deleted);
    });
    this.#subscribe(o.requests, (obj, old, deleted) => {
      this.#onRequest(obj as unknown as AccessRequest, old as unknown as AccessRequest | undefined, deleted);
    });
    if (o.approvals !== undefined) {
      this.#subscribe(o.approvals, (obj) => {
        // An approval changes only the request it answers.
        const a = obj as unknown as AccessApproval;
        this.requestQueue.add(`${a.metadata.namespace ?? ""}/${a.spec.requestName}`);
      });
    }
    this.#subscribe(o.scopes, (obj, old, deleted) => {
      // Our own status writes change no spec: nothing to re-decide.
      if (!deleted && old !== undefined && old.metadata?.generation === obj.metadata?.generation) return;
      this.#onScopes();
    });
    this.#subscribe(o.namespaces, (obj, old, deleted) => {
      if (deleted || old === undefined || labelsOf(obj) !== labelsOf(old)) {
        this.#onScopes();
        // A new or relabelled namespace may fall inside or outside the guard's binding.
        void this.#refreshGuard();
      }
    });
    for (const p of this.caches.policies()) {
      this.#bind(p);
      this.#signatures.set(objectKey(p.metadata), this.gate.signature(p));
    }
    // The caches filled before this subscription: index what they hold now.
    const requests = this.caches.requests();
    const now = o.clock.now().getTime();
    this.grants.reset(requests.map((r) => objectKey(r.metadata)));
    // Indexed in slices before any handler reads it (#timed waits): in one stretch, 100,000
    // requests kept the event loop (and the shard Lease renewals) waiting for seconds.
    const indexed = indexInSlices(this.grants)?.finally(() => {
      if (this.#grantsIndexed === indexed) this.#grantsIndexed = undefined;
    });
    this.#grantsIndexed = indexed;
    this.#undecided.clear();
    for (const r of requests) this.#undecided.update(objectKey(r.metadata), r, false, now);
    this.nsgQueue.start(this.#timed("nsg", (k) => this.#reconcileNsg(k)));
    // Policies whose resolution does not verify (the first start after an upgrade, or a forgery made
    // while no operator led) have their VM targets unbound until re-resolved: the first resync waits
    // for that (bounded), so it does not strip their rules only to restore them a moment later.
    this.#unresolved = new Set(
      this.caches
        .policies()
        .filter((p) => this.bindings.withheld(p))
        .map((p) => objectKey(p.metadata)),
    );
    this.#resyncStarted = false;
    this.#stopping = false;
    if (o.sharding === undefined || o.sharding.isDecider()) this.startDeciding();
    // The first resync reconciles every bound NSG from listed documents: the ledger is rebuilt and
    // anything that lapsed while no operator was leading is removed.
    if (this.#unresolved.size === 0) this.#startResync();
    else
      this.#resyncTimer = o.clock.setTimer(() => {
        this.#startResync();
      }, UNRESOLVED_WAIT_MS);
  }

  /**
   * Decide requests, policies and scopes from now on (once): the single leader at start, or the
   * replica that took shard 0 (ADR 0018).
   */
  startDeciding(): void {
    if (this.#deciding || this.#stopping) return;
    this.#deciding = true;
    const o = this.#o;
    void o.scopeIndex?.publish();
    void this.#writeScopeStatuses();
    this.requestQueue.start(this.#timed("accessrequest", (k) => this.requestReconciler.reconcile(k)));
    this.policyQueue.start(
      this.#timed("jitpolicy", async (k) => {
        try {
          return await this.policyReconciler.reconcile(k);
        } finally {
          if (this.#unresolved.delete(k) && this.#unresolved.size === 0) this.#startResync();
        }
      }),
    );
    for (const p of this.caches.policies()) this.policyQueue.add(objectKey(p.metadata));
    for (const r of this.caches.requests()) this.requestQueue.add(objectKey(r.metadata));
  }

  /**
   * A shard was taken: reconcile each bound NSG key of it (the resync finds its orphans). Its last
   * holder may have written them after our last list, so they wait for a list begun after now
   * (takeover.ts) instead of each being read with a GET; shards taken together share that list.
   */
  wakeShard(shard: number): void {
    const s = this.#o.sharding;
    if (s === undefined) return;
    this.#takeover.takeOver(this.bindings.allNsgs().filter((k) => s.shardOf(k) === shard));
  }

  /**
   * Sharded: write an NSG of a held shard (counted, so a hand-over waits for it); the decider only
   * observes the others (it needs their placements), and other replicas leave them alone.
   */
  #reconcileNsg(key: string): Promise<HandlerResult> {
    const s = this.#o.sharding;
    if (s === undefined) return this.nsgReconciler.reconcile(key);
    // A key waiting for its take-over list is queued again when that list has ended.
    const owned = s.whileOwned(key, () =>
      this.#takeover.waits(key) ? Promise.resolve({}) : this.nsgReconciler.reconcile(key, "write"),
    );
    if (owned !== undefined) return owned;
    return this.#deciding ? this.nsgReconciler.reconcile(key, "observe") : Promise.resolve({});
  }

  #startResync(): void {
    if (this.#resyncStarted || this.#stopping) return;
    this.#resyncStarted = true;
    if (this.#resyncTimer !== undefined) this.#o.clock.clearTimer(this.#resyncTimer);
    this.#resyncTimer = undefined;
    this.#resync.start();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#deciding = false;
    if (this.#resyncTimer !== undefined) this.#o.clock.clearTimer(this.#resyncTimer);
    this.#resyncTimer = undefined;
    for (const u of this.#unsubscribe.splice(0)) u();
    await Promise.all([this.#resync.stop(), this.#takeover.stop()]);
    await Promise.all([this.nsgQueue.shutdown(), this.requestQueue.shutdown(), this.policyQueue.shutdown()]);
    await this.#events.flush();
  }

  #subscribe(
    inf: Informer<KubernetesObject>,
    fn: (obj: KubernetesObject, old: KubernetesObject | undefined, deleted: boolean) => void,
  ): void {
    const add = (obj: KubernetesObject): void => {
      fn(obj, undefined, false);
    };
    const update = (obj: KubernetesObject, old: KubernetesObject | undefined): void => {
      fn(obj, old, false);
    };
    const del = (obj: KubernetesObject): void => {
      fn(obj, undefined, true);
    };
    inf.on("add", add);
    inf.on("update", update);
    inf.on("delete", del);
    this.#unsubscribe.push(() => {
      inf.off("add", add);
      inf.off("update", update);
      inf.off("delete", del);
    });
  }

  /** Index a policy as its scopes let the operator see it; a refused spec keeps what it bound. */
  #bind(p: JitPolicy): string[] {
    return this.bindings.upsert(this.gate.view(p), policySpecIssues(p).length === 0);
  }

  #onPolicy(p: JitPolicy, old: JitPolicy | undefined, deleted: boolean): void {
    const key = objectKey(p.metadata);
    // Grants follow the spec (and deletion), not the status: a status write leaves the policy's
    // requests indexed. Marking them all changed on every status write left a replica that reads
    // its index rarely (not deciding, between resyncs) to recompute every request in one stretch
    // (9-10 s at 100,000 requests over 200 policies: its shard Lease renewals missed their deadline).
    if (deleted || grantInputsChanged(old, p)) this.grants.invalidatePolicy(key);
    if (deleted) this.#signatures.delete(key);
    else this.#signatures.set(key, this.gate.signature(p));
    const touched = deleted ? this.bindings.remove(key) : this.#bind(p);
    for (const k of touched) this.nsgQueue.add(k);
    this.policyQueue.add(key);
    if (old === undefined || old.metadata.generation !== p.metadata.generation || deleted) {
      // A policy change can close live grants: let each of its requests re-check.
      for (const k of this.caches.requestsOf(key)) this.requestQueue.add(k);
    }
  }

  /**
   * A JitScope or a namespace's labels changed: re-decide every policy. A target no longer covered
   * loses its bindings, so its NSGs are woken and plan without its rules (narrowing closes grants
   * within one reconcile); its requests re-check and close.
   */
  #onScopes(): void {
    this.gate.invalidate();
    for (const p of this.caches.policies()) {
      const key = objectKey(p.metadata);
      const signature = this.gate.signature(p);
      this.policyQueue.add(key);
      if (this.#signatures.get(key) === signature) continue;
      this.#signatures.set(key, signature);
      this.grants.invalidatePolicy(key);
      for (const k of this.#bind(p)) this.nsgQueue.add(k);
      for (const k of this.caches.requestsOf(key)) this.requestQueue.add(k);
    }
    if (!this.#deciding) return;
    void this.#o.scopeIndex?.publish();
    void this.#writeScopeStatuses();
  }

  /** Each JitScope's bound namespaces, written where they changed; failures wait for the next change. */
  async #writeScopeStatuses(): Promise<void> {
    const write = this.#o.writeScopeStatus;
    if (write === undefined) return;
    const namespaces = this.#o.namespaces
      .list()
      .map((n) => ({ name: n.metadata?.name ?? "", labels: { ...(n.metadata?.labels ?? {}) } }));
    const scopes = this.#o.scopes.list() as unknown as JitScope[];
    for (const { scope, status } of changedScopeStatuses(scopes, namespaces, this.#o.clock.now())) {
      try {
        await write(scope, status);
      } catch (err) {
        this.#o.log.warn(
          { scope: scope.metadata.name, ...kubeErrorFields(err) },
          "writing JitScope status failed",
        );
      }
    }
  }

  /** Re-read the admission guard; requests it held are looked at again at once. */
  async #refreshGuard(): Promise<void> {
    const guard = this.#o.admissionGuard;
    if (guard === undefined) return;
    await guard.refresh(this.#o.servedNamespaces?.() ?? []);
    await this.#o.approvalGuard?.refresh(this.#o.servedNamespaces?.() ?? []);
    for (const r of this.caches.requests()) {
      if (r.status?.startTime === undefined && !isTerminal(r.status?.phase)) {
        this.requestQueue.add(objectKey(r.metadata));
      }
    }
  }

  #onRequest(r: AccessRequest, old: AccessRequest | undefined, deleted: boolean): void {
    const key = objectKey(r.metadata);
    // The batching view first: the queue may start this request's reconcile at once, and an
    // approval it decides must find the request's arrival already counted.
    this.#trackUndecided(key, r, old, deleted);
    this.requestReconciler.changed(key);
    this.requestQueue.add(key);
    // A renewal that became Active supersedes the request it names (ADR 0013).
    if (r.spec.supersedes !== undefined)
      this.requestQueue.add(`${r.metadata.namespace ?? ""}/${r.spec.supersedes}`);
    if (!deleted && grantFingerprint(r) === grantFingerprint(old)) return;
    this.grants.invalidateRequest(key);
    // An approval in flight may already have a rule: a deletion or revocation meanwhile removes it.
    if (r.status?.startTime === undefined && !this.#inFlight.early(key)) return;
    // Only the NSGs of the targets it names (all of the policy's when it names none) carry its grants.
    const policyKey = policyKeyOf(r);
    const targets = r.spec.targets !== undefined && r.spec.targets.length > 0 ? r.spec.targets : [undefined];
    for (const t of targets) for (const k of this.bindings.nsgsOf(policyKey, t)) this.nsgQueue.add(k);
  }

  /** The batching view of a request change; the last undecided request of a policy decided wakes
   * the NSGs held for the burst. An approval in flight is decided already: its creation still counts
   * as an arrival for the settle period (its reconcile may have begun before this event), a later
   * event (its own finalizer write) does not, or each write acknowledged would hold the NSGs again. */
  #trackUndecided(key: string, r: AccessRequest, old: AccessRequest | undefined, deleted: boolean): void {
    const now = this.#o.clock.now().getTime();
    const seen = deleted ? r : (this.#inFlight.overlay(r) ?? r);
    let emptied: string | undefined;
    if (seen !== r && old === undefined) emptied = this.#undecided.update(key, r, false, now);
    emptied = this.#undecided.update(key, seen, deleted, now) ?? emptied;
    if (emptied !== undefined) for (const k of this.bindings.nsgsOf(emptied)) this.nsgQueue.add(k);
  }

  /** An approval began or ended in flight: the grant index re-reads the request, and a decided
   * request no longer holds its NSGs' batching (nor does one whose approval did not land any more). */
  #onInFlight(key: string): void {
    this.grants.invalidateRequest(key);
    const r = this.#inFlight.overlay(this.caches.request(key));
    if (r === undefined) return;
    const emptied = this.#undecided.update(key, r, false, this.#o.clock.now().getTime());
    if (emptied !== undefined) for (const k of this.bindings.nsgsOf(emptied)) this.nsgQueue.add(k);
  }

  #timed(controller: string, fn: (key: string) => Promise<HandlerResult>): Handler {
    const { clock, metrics } = this.#o;
    return async (key) => {
      // Not awaited once done: a handler's first step stays in the turn it was started in.
      if (this.#grantsIndexed !== undefined) await this.#grantsIndexed;
      const start = clock.now().getTime();
      try {
        const r = await fn(key);
        metrics?.observeReconcile(
          controller,
          r.requeueAfterMs === undefined ? "success" : "requeue_after",
          (clock.now().getTime() - start) / 1000,
        );
        return r;
      } catch (err) {
        metrics?.observeReconcile(controller, "error", (clock.now().getTime() - start) / 1000);
        throw err;
      }
    };
  }
}

/** Requests the grant index takes per turn of the event loop at start (tens of ms of CPU). */
const INDEX_SLICE = 1000;

/**
 * GrantIndex.refreshSome until done, yielding to the event loop (timers, I/O) between slices;
 * undefined when the first slice took everything (no wait for anyone).
 */
export function indexInSlices(
  grants: Pick<GrantIndex, "refreshSome">,
  slice = INDEX_SLICE,
): Promise<void> | undefined {
  if (grants.refreshSome(slice)) return undefined;
  return (async (): Promise<void> => {
    do
      await new Promise<void>((resolve) => {
        setImmediate(resolve);
      });
    while (!grants.refreshSome(slice));
  })();
}

function labelsOf(obj: KubernetesObject): string {
  const labels = obj.metadata?.labels ?? {};
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

function namespaceInfo(namespaces: Informer<KubernetesObject>, name: string): NamespaceInfo | undefined {
  const ns = namespaces.get(undefined, name);
  return ns === undefined ? undefined : { name, labels: { ...(ns.metadata?.labels ?? {}) } };
}

/** The subscription ids (lower-case) that JitScopes name, for the resync's orphan search. */
export function scopeSubscriptions(scopes: JitScope[]): string[] {
  const out = new Set<string>();
  for (const s of scopes) {
    for (const prefix of s.spec.azureScopes) {
      const m = /^\/subscriptions\/([^/]+)/i.exec(prefix);
      if (m?.[1] !== undefined) out.add(m[1].toLowerCase());
    }
  }
  return [...out];
}
