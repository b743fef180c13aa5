// `drawbridge run`: wires configuration, logger, clock, Kubernetes and Azure clients, metrics and
// health endpoints, informers, leader election and the controller, and shuts all of it down in
// order on SIGTERM (stop taking work, release the Lease, close servers) before exiting 0.
import { KubeConfig } from "@kubernetes/client-node";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { JitNotifier, JitScope } from "../api/types.ts";
import { NotificationDispatcher } from "../notify/dispatcher.ts";
import { notifyMetrics } from "../notify/metrics.ts";
import { secretKeyReader } from "../notify/secrets.ts";
import { APPROVER_GUARD, APPROVER_GUARD_CONSEQUENCE } from "./guard/approver-guard.ts";
import { readFileSync } from "node:fs";
import {
  ACCESSAPPROVAL_PLURAL,
  ACCESSREQUEST_PLURAL,
  JITNOTIFIER_PLURAL,
  API_GROUP,
  API_VERSION,
  JITPOLICY_PLURAL,
  JITSCOPE_PLURAL,
} from "../api/types.ts";
import {
  ArmBudget,
  createAzureAdapter,
  createCredential,
  DEFAULT_RATE_LIMITS,
  SubscriptionRateLimiter,
} from "../azure/index.ts";
import type { AzurePort } from "../azure/port.ts";
import { Controller } from "./controller.ts";
import { PooledWriteKubeConfig } from "../kube/kube-config.ts";
import { watchLoopStalls } from "../runtime/loop-stall.ts";
import { createKubeWriter } from "../kube/kube.ts";
import { AdmissionGuard } from "./guard/state.ts";
import type { GuardNamespace } from "./guard/guard.ts";
import { namespaceSource } from "../kube/namespace-source.ts";
import { ScopeIndexPublisher, scopeIndexStore, scopeIndexData } from "./scope/scope-index.ts";
import { scopeStatusWriter } from "./scope/status.ts";
import { systemClock } from "../runtime/clock.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Config } from "../runtime/config.ts";
import { startHttpServers } from "../runtime/http.ts";
import { createInformer } from "../runtime/informer.ts";
import { Interner } from "../runtime/intern.ts";
import { PartTable } from "../runtime/share.ts";
import type { Informer } from "../runtime/informer.ts";
import { customResourceSource } from "../runtime/lister.ts";
import { createLogger } from "../runtime/logger.ts";
import type { Logger } from "../runtime/logger.ts";
import { Metrics } from "../runtime/metrics.ts";
import { Shutdown } from "../runtime/shutdown.ts";
import { LEADERSHIP_LOST, startLeadership } from "./startup/leadership.ts";
import { checkStartup } from "./startup/checks.ts";
import { ShardOwnership } from "./shard/ownership.ts";
import { startSharding } from "./shard/wiring.ts";
import { loadSigningKey, secretStore } from "./startup/signing-key.ts";
import type { SigningKey } from "../core/approval-signature.ts";
import { ApiException } from "@kubernetes/client-node";
import { kubeErrorFields } from "../runtime/kube-errors.ts";
import { EXIT_STARTUP_FAILED, STARTUP_FAILED, StartupGate } from "./startup/gate.ts";

export interface RunOptions {
  clock?: Clock;
  logger?: Logger;
  /** Replace the Azure adapter (tests); default the SDK adapter configured from Config. */
  azure?: AzurePort;
  shutdown?: Shutdown;
}

export function loadKubeConfig<K extends KubeConfig = KubeConfig>(
  path: string | undefined,
  kc: K = new KubeConfig() as K,
): K {
  if (path === undefined) kc.loadFromCluster();
  else kc.loadFromFile(path);
  return kc;
}

function azureFrom(
  config: Config,
  log: Logger,
  metrics: Metrics,
  limiter: SubscriptionRateLimiter,
): AzurePort & { close?: () => void } {
  const caPem = config.armCaFile === undefined ? undefined : readFileSync(config.armCaFile, "utf8");
  return createAzureAdapter({
    credential: createCredential({
      armEndpoint: config.armEndpoint,
      armCaFile: config.armCaFile,
      staticToken: config.armToken,
    }),
    endpoint: config.armEndpoint,
    caPem,
    logger: log.child({ component: "azure" }),
    limiter,
    onArmCall: (op, status, ms) => {
      metrics.observeArmRequest(op, status, ms / 1000);
    },
  });
}

/**
 * Watches break together when the path to the API server does (their reports arrive within ~50 ms
 * of each other): drop the write pool once for them. Not longer: a second break 2 s later must drop
 * the connections opened since the first, or writes on them wait out WRITE_TIMEOUT_MS.
 */
const POOL_DROP_MIN_INTERVAL_MS = 1_000;

function poolDropper(writes: PooledWriteKubeConfig, clock: Clock, log: Logger): () => void {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const now = clock.now().getTime();
    if (now - last < POOL_DROP_MIN_INTERVAL_MS) return;
    last = now;
    log.info("a watch connection broke; reopening the pooled write connections");
    writes.dropConnections(new Error("a watch connection to the API server broke; write retried"));
  };
}

function informersFor(
  kc: KubeConfig,
  config: Config,
  log: Logger,
  clock: Clock,
  metrics: Metrics,
  onBrokenWatch: () => void,
): Record<
  "policies" | "requests" | "approvals" | "notifiers" | "scopes" | "namespaces",
  Informer<KubernetesObject>
> {
  // One pair of tables for every custom resource: a policy's target ids and namespace are the same
  // strings as its requests' and approvals'.
  const sharing = { strings: new Interner(), parts: new PartTable() };
  const make = (plural: string): Informer<KubernetesObject> =>
    createInformer({
      ...customResourceSource(kc, {
        group: API_GROUP,
        version: API_VERSION,
        plural,
        namespace: config.namespace,
      }),
      logger: log,
      clock,
      metrics,
      onBrokenWatch,
      sharing,
    });
  return {
    policies: make(JITPOLICY_PLURAL),
    requests: make(ACCESSREQUEST_PLURAL),
    approvals: make(ACCESSAPPROVAL_PLURAL),
    notifiers: make(JITNOTIFIER_PLURAL),
    // Cluster-scoped, whatever --namespace says: scopes and namespace labels decide what a namespace may target.
    scopes: createInformer({
      ...customResourceSource(kc, { group: API_GROUP, version: API_VERSION, plural: JITSCOPE_PLURAL }),
      logger: log,
      clock,
      metrics,
      onBrokenWatch,
      sharing,
    }),
    namespaces: createInformer({ ...namespaceSource(kc), logger: log, clock, metrics, onBrokenWatch }),
  };
}

function scopeIndexFor(
  config: Config,
  kc: KubeConfig,
  log: Logger,
  scopes: Informer<KubernetesObject>,
  namespaces: Informer<KubernetesObject>,
): ScopeIndexPublisher | undefined {
  if (config.scopeIndexName === "") return undefined;
  return new ScopeIndexPublisher({
    store: scopeIndexStore(kc),
    target: { namespace: config.leaderElectionNamespace, name: config.scopeIndexName },
    compute: () =>
      scopeIndexData(
        scopes.list() as unknown as JitScope[],
        namespaces
          .list()
          .map((n) => ({ name: n.metadata?.name ?? "", labels: { ...(n.metadata?.labels ?? {}) } })),
        config.allowUnscopedNamespaces,
      ),
    log: log.child({ component: "scope-index" }),
  });
}

/** Run the operator until shutdown; resolves with the process exit code. */
export async function runOperator(config: Config, opts: RunOptions = {}): Promise<number> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  const shutdown = opts.shutdown ?? new Shutdown({ logger: log });
  shutdown.install();
  // The runtime's timers are unref'd so libraries and tests can exit; the running operator must not
  // end just because, for a moment, only such timers are pending (a dropped watch waiting to retry
  // with both HTTP listeners disabled). Registered first, so it is cleared last.
  const keepAlive = setInterval(() => undefined, 60_000);
  shutdown.register("keep-alive", () => {
    clearInterval(keepAlive);
  });
  // Timers that run late take Lease renewals and watch deadlines with them: logged and counted.
  const stopStallWatch = watchLoopStalls({
    logger: log.child({ component: "event-loop" }),
    onStall: (ms) => {
      metrics.eventLoopStalls.observe(ms / 1000);
    },
  });
  shutdown.register("loop-stall", stopStallWatch);
  const kc = loadKubeConfig(config.kubeconfig);
  // Sharded replicas each use their share of a subscription's ARM budget (shard/wiring.ts).
  const limiter = new SubscriptionRateLimiter(DEFAULT_RATE_LIMITS);
  const budget = new ArmBudget({
    configured: DEFAULT_RATE_LIMITS,
    limiter,
    clock,
    // Sharded, a replica does not know yet how many others run: its first lists go out on the share
    // of one replica per shard, and the first balancing round (one retry period) raises it.
    replicas: Math.max(1, config.shards),
    onShare: (share) => {
      metrics.armRateShare.set(share);
    },
  });
  const azure = opts.azure ?? azureFrom(config, log, metrics, limiter);
  shutdown.register("azure", () => (azure as { close?: () => void }).close?.());
  // Writes share keep-alive connections with request timeouts; lists and watches keep the
  // library's connection per request (kube-config.ts says why).
  const writes = loadKubeConfig(config.kubeconfig, new PooledWriteKubeConfig());
  const informers = informersFor(kc, config, log, clock, metrics, poolDropper(writes, clock, log));
  const { policies, requests, approvals, notifiers, scopes, namespaces } = informers;
  const all = Object.values(informers);
  let leading = !config.leaderElect;
  // Bounded: a missing namespace, CRD or permission is named in one line and on /readyz, then exit 3.
  const gate = new StartupGate({
    check: () => checkStartup(kc, config),
    clock,
    log: log.child({ component: "startup" }),
    timeoutMs: config.startupTimeoutMs,
  });
  const http = await startHttpServers({
    metricsAddr: config.metricsBindAddress,
    healthAddr: config.healthProbeBindAddress,
    metrics,
    liveness: () => true,
    readiness: () => {
      if (!gate.readiness().ok) return gate.readiness();
      return all.every((i) => i.hasSynced())
        ? { ok: true, reason: leading ? "leading" : "standby" }
        : { ok: false, reason: "caches not synced" };
    },
  });
  shutdown.register("http", () => http.close());
  log.info(
    {
      metrics: http.metricsAddress,
      health: http.healthAddress,
      writeMode: config.writeMode,
      namespace: config.namespace ?? "*",
    },
    "drawbridge operator starting",
  );
  shutdown.register("informers", () => {
    for (const i of all) i.stop();
  });
  shutdown.register("startup", () => {
    gate.stop();
  });
  const started = await gate.run({
    startInformers: async () => {
      await Promise.all(all.map((i) => i.start()));
    },
    unsynced: () =>
      Object.entries(informers)
        .filter(([, i]) => !i.hasSynced())
        .map(([name]) => name),
  });
  if (started !== "ok") {
    if (started === "timeout") await shutdown.run(STARTUP_FAILED);
    await shutdown.done;
    return started === "timeout" ? EXIT_STARTUP_FAILED : 0;
  }
  // Before any decision: every approval and resolution written is signed with it (ADR 0012).
  let signing: SigningKey;
  try {
    signing = await loadSigningKey(secretStore(kc), config.leaderElectionNamespace, config.signingSecretName);
  } catch (err) {
    log.error(
      err instanceof ApiException
        ? { secret: config.signingSecretName, ...kubeErrorFields(err) }
        : { secret: config.signingSecretName, err: err instanceof Error ? err.message : String(err) },
      "cannot load the signing key",
    );
    await shutdown.run(STARTUP_FAILED);
    await shutdown.done;
    return EXIT_STARTUP_FAILED;
  }
  const servedNamespaces = (): GuardNamespace[] =>
    namespaces
      .list()
      .filter((n) => config.namespace === undefined || n.metadata?.name === config.namespace)
      .map((n) => ({ name: n.metadata?.name ?? "", labels: { ...(n.metadata?.labels ?? {}) } }));
  const admissionGuard = AdmissionGuard.forKubeConfig(kc, {
    log: log.child({ component: "admission-guard" }),
    metrics,
    allowUnguarded: config.allowUnguardedNamespaces,
  });
  // Where it does not hold, no AccessApproval counts (approval/guard.ts).
  const approvalGuard = AdmissionGuard.forKubeConfig(kc, {
    log: log.child({ component: "approver-guard" }),
    allowUnguarded: config.allowUnguardedNamespaces,
    target: APPROVER_GUARD,
    consequence: APPROVER_GUARD_CONSEQUENCE,
  });
  // Before any request is decided: an unchecked guard would hold every request for a moment.
  await admissionGuard.refresh(servedNamespaces());
  await approvalGuard.refresh(servedNamespaces());
  const dispatcher = new NotificationDispatcher({
    notifiers: () => notifiers.list() as unknown as JitNotifier[],
    readSecret: secretKeyReader(kc),
    expiringLeadMs: config.notifyExpiringLeadMs,
    capacity: 1000,
    attemptTimeoutMs: config.notifyAttemptTimeoutMs,
    maxAttempts: 10,
    urlTtlMs: 60_000,
    metrics: notifyMetrics(metrics.registry),
    log: log.child({ component: "notify" }),
    now: () => clock.now().getTime(),
  });
  shutdown.register("notify", () => {
    dispatcher.close();
  });
  const sharding = shardingFor(config);
  const controller = new Controller({
    policies,
    requests,
    scopes,
    namespaces,
    allowUnscoped: config.allowUnscopedNamespaces,
    orphanSearch: config.namespace === undefined || config.instanceId !== "",
    admissionGuard,
    approvals,
    approvalGuard,
    notify: dispatcher.notify,
    servedNamespaces,
    writeScopeStatus: scopeStatusWriter(kc),
    scopeIndex: scopeIndexFor(config, kc, log, scopes, namespaces),
    azure,
    kube: createKubeWriter(writes),
    clock,
    log,
    metrics,
    writeMode: config.writeMode,
    resyncIntervalMs: config.resyncIntervalMs,
    maxConcurrentNsgs: config.maxConcurrentNsgs,
    requestRetentionMs: config.requestRetentionMs,
    deniedRetentionMs: config.deniedRetentionMs,
    limits: {
      perRequester: config.maxOpenRequestsPerRequester,
      perNamespace: config.maxOpenRequestsPerNamespace,
    },
    batchMaxHoldMs: config.batchMaxHoldMs,
    instanceId: config.instanceId,
    signing,
    sharding,
  });
  const onLeading = (on: boolean): void => {
    leading = on;
  };
  startReconciling({ config, kc, clock, log, metrics, shutdown, controller, sharding, budget, onLeading });
  await shutdown.done;
  return shutdown.reason === LEADERSHIP_LOST ? 1 : 0;
}

/** One leader (startup/leadership.ts), or NSG shards over the replicas (shard/wiring.ts, ADR 0018). */
function startReconciling(o: {
  config: Config;
  kc: KubeConfig;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  shutdown: Shutdown;
  controller: Controller;
  sharding: ShardOwnership | undefined;
  budget: ArmBudget;
  onLeading: (on: boolean) => void;
}): void {
  const { controller, log } = o;
  if (o.sharding !== undefined) {
    startSharding({ ...o, ownership: o.sharding, onDeciding: o.onLeading });
    return;
  }
  startLeadership({
    ...o,
    onStartedLeading: () => {
      o.onLeading(true);
      log.info("leading: starting reconcilers");
      controller.start();
    },
    onStoppedLeading: async () => {
      o.onLeading(false);
      await controller.stop();
    },
  });
}

function shardingFor(config: Config): ShardOwnership | undefined {
  return config.shards > 1 ? new ShardOwnership(config.shards) : undefined;
}
