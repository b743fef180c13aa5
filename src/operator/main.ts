// `drawbridge run`: wires configuration, logger, clock, Kubernetes and Azure clients, metrics and
// health endpoints, informers, leader election and the controller, and shuts all of it down in
// order on SIGTERM (stop taking work, release the Lease, close servers) before exiting 0.
import { KubeConfig } from "@kubernetes/client-node";
import type { KubernetesObject } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { ACCESSREQUEST_PLURAL, API_GROUP, API_VERSION, JITPOLICY_PLURAL } from "../api/types.ts";
import { createAzureAdapter, createCredential } from "../azure/index.ts";
import type { AzurePort } from "../azure/port.ts";
import { Controller } from "./controller.ts";
import { PooledWriteKubeConfig } from "./kube-config.ts";
import { createKubeWriter } from "./kube.ts";
import { systemClock } from "./runtime/clock.ts";
import type { Clock } from "./runtime/clock.ts";
import type { Config } from "./runtime/config.ts";
import { startHttpServers } from "./runtime/http.ts";
import { createInformer } from "./runtime/informer.ts";
import type { Informer } from "./runtime/informer.ts";
import { customResourceSource } from "./runtime/lister.ts";
import { createLogger } from "./runtime/logger.ts";
import type { Logger } from "./runtime/logger.ts";
import { Metrics } from "./runtime/metrics.ts";
import { Shutdown } from "./runtime/shutdown.ts";
import { LEADERSHIP_LOST, startLeadership } from "./leadership.ts";

export interface RunOptions {
  clock?: Clock;
  logger?: Logger;
  /** Replace the Azure adapter (tests); default the SDK adapter configured from Config. */
  azure?: AzurePort;
  shutdown?: Shutdown;
}

export function loadKubeConfig(path: string | undefined, kc = new KubeConfig()): KubeConfig {
  if (path === undefined) kc.loadFromCluster();
  else kc.loadFromFile(path);
  return kc;
}

function azureFrom(config: Config, log: Logger, metrics: Metrics): AzurePort & { close?: () => void } {
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
    onArmCall: (op, status, ms) => {
      metrics.observeArmRequest(op, status, ms / 1000);
    },
  });
}

function informersFor(
  kc: KubeConfig,
  config: Config,
  log: Logger,
  clock: Clock,
  metrics: Metrics,
): { policies: Informer<KubernetesObject>; requests: Informer<KubernetesObject> } {
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
    });
  return { policies: make(JITPOLICY_PLURAL), requests: make(ACCESSREQUEST_PLURAL) };
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
  const kc = loadKubeConfig(config.kubeconfig);
  const azure = opts.azure ?? azureFrom(config, log, metrics);
  shutdown.register("azure", () => (azure as { close?: () => void }).close?.());
  const { policies, requests } = informersFor(kc, config, log, clock, metrics);
  let leading = !config.leaderElect;
  const http = await startHttpServers({
    metricsAddr: config.metricsBindAddress,
    healthAddr: config.healthProbeBindAddress,
    metrics,
    liveness: () => true,
    readiness: () =>
      policies.hasSynced() && requests.hasSynced()
        ? { ok: true, reason: leading ? "leading" : "standby" }
        : { ok: false, reason: "caches not synced" },
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
    policies.stop();
    requests.stop();
  });
  await Promise.all([policies.start(), requests.start()]);
  const controller = new Controller({
    policies,
    requests,
    azure,
    // Writes share keep-alive connections with request timeouts; lists and watches keep the
    // library's connection per request (kube-config.ts says why).
    kube: createKubeWriter(loadKubeConfig(config.kubeconfig, new PooledWriteKubeConfig())),
    clock,
    log,
    metrics,
    writeMode: config.writeMode,
    resyncIntervalMs: config.resyncIntervalMs,
    maxConcurrentNsgs: config.maxConcurrentNsgs,
    requestRetentionMs: config.requestRetentionMs,
    batchMaxHoldMs: config.batchMaxHoldMs,
  });
  startLeadership({
    config,
    kc,
    clock,
    log,
    metrics,
    shutdown,
    onStartedLeading: () => {
      leading = true;
      log.info("leading: starting reconcilers");
      controller.start();
    },
    onStoppedLeading: async () => {
      leading = false;
      await controller.stop();
    },
  });
  await shutdown.done;
  return shutdown.reason === LEADERSHIP_LOST ? 1 : 0;
}
