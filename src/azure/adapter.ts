// The AzurePort over the real SDKs (@azure/arm-network, @azure/arm-compute). Every HTTP request
// goes through one policy (./arm-policy.ts): client-side token bucket per subscription, timeout,
// bounded retries honouring Retry-After, metrics. Every failure leaves as an AzureError.
import type { NetworkSecurityGroup } from "@azure/arm-network";
import type { TokenCredential } from "@azure/core-auth";
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import type { Logger } from "pino";
import { isManagedRule, type ObservedNsg, type SecurityRule } from "../core/nsg.ts";
import { armPolicy, type ArmCallHook } from "./arm-policy.ts";
import { ArmClientFactory, normalizeEndpoint } from "./clients.ts";
import { systemClock, type Clock } from "../runtime/clock.ts";
import { jsonObjectOf, restErrorOf, toAzureError } from "./errors.ts";
import { normalizeId, parseNsgId, withApiVersion } from "./ids.ts";
import { fromArmNsg, fromSdkNsg } from "./mapping.ts";
import { buildNsgPutBody } from "./nsg-body.ts";
import { AzureError, type AzurePort, type ResolvedVm } from "./port.ts";
import { ruleWireBody, securityRuleUrl, writeRule, type RuleWriteDeps } from "./rule-write.ts";
import { DEFAULT_RETRY_OPTIONS, validateRetryOptions, type RetryOptions } from "./retry.ts";
import { DEFAULT_RATE_LIMITS, SubscriptionRateLimiter, type RateLimits } from "./token-bucket.ts";
import { AsyncTtlCache } from "./ttl-cache.ts";
import { resolveVm } from "./vm-resolver.ts";

export interface AzureAdapterOptions {
  credential: TokenCredential;
  /** ARM base URL; default https://management.azure.com. */
  endpoint?: string | undefined;
  /** PEM of an extra CA to trust (the emulator's), added to Node's bundled roots. */
  caPem?: string | undefined;
  logger: Logger;
  clock?: Clock | undefined;
  /** Per HTTP request; default 30 s. */
  requestTimeoutMs?: number | undefined;
  /** Retries per HTTP request after the first attempt; default 3. */
  maxRetries?: number | undefined;
  /** Backoff details; maxRetries above wins over retry.maxRetries. */
  retry?: Partial<RetryOptions> | undefined;
  /** Client-side token buckets per subscription; default reads 20/s burst 200, writes 8/s burst 150. */
  rateLimit?: Partial<RateLimits> | undefined;
  /**
   * The client-side buckets themselves, in place of rateLimit, for a caller that re-sizes them
   * (sharded replicas share a subscription's budget, rate-share.ts).
   */
  limiter?: SubscriptionRateLimiter | undefined;
  /** How long a resolved VM is reused before it is read again; default 5 min. */
  vmCacheTtlMs?: number | undefined;
  /** Long-running-operation poll interval when ARM sends no Retry-After; default 500 ms. */
  pollIntervalMs?: number | undefined;
  /** Deadline for one write including its polling; default 2 min. A write ARM never finishes fails Transient. */
  operationTimeoutMs?: number | undefined;
  /** Called once per HTTP attempt with "GET networkSecurityGroups"-style op names. */
  onArmCall?: ArmCallHook | undefined;
  /** Jitter source; default Math.random. */
  random?: (() => number) | undefined;
}

export interface AzureAdapterStats {
  /** Pages read by the last listNsgs call. */
  lastListPages: number;
  /** HTTP requests that waited for the client-side token bucket. */
  rateLimitedCalls: number;
  /** VM resolutions that went to ARM (cache misses and refreshes). */
  vmLoads: number;
}

export interface AzureAdapter extends AzurePort {
  /** Drop a VM's cached resolution (e.g. after its NSG vanished). */
  invalidateVm(vmId: string): void;
  stats(): AzureAdapterStats;
  /** Close idle connections. */
  close(): void;
}

/** The api-version @azure/arm-network's NetworkSecurityGroups_ListAll sends (listPages below). */
export const NSG_LIST_API_VERSION = "2026-01-01";

interface ListPage {
  value: unknown[];
  nextLink: string | undefined;
}

/** A list page's JSON, or the RestError the SDK would throw for the answer (ARM's error code kept). */
function listPage(res: PipelineResponse): ListPage {
  if (res.status !== 200) throw restErrorOf(res);
  const doc = jsonObjectOf(res.bodyAsText);
  if (!Array.isArray(doc["value"])) {
    throw new AzureError("Invalid", "NSG list page without a value array in the ARM answer", {
      code: "UnexpectedNsgShape",
    });
  }
  const next = doc["nextLink"];
  return { value: doc["value"], nextLink: typeof next === "string" && next !== "" ? next : undefined };
}

function positiveInt(name: string, v: number | undefined, dflt: number, max: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 1 || x > max) {
    throw new RangeError(`${name} must be an integer in 1..${max}, got ${x}`);
  }
  return x;
}

function rateLimits(r: Partial<RateLimits> | undefined): RateLimits {
  const out = { ...DEFAULT_RATE_LIMITS, ...r };
  for (const k of ["readsPerSec", "readBurst", "writesPerSec", "writeBurst"] as const) {
    const v = out[k];
    if (!Number.isFinite(v) || v <= 0 || (k.endsWith("Burst") && v < 1) || v > 100_000) {
      throw new RangeError(`rateLimit.${k} must be a positive number (bursts at least 1), got ${v}`);
    }
  }
  return out;
}

export function createAzureAdapter(opts: AzureAdapterOptions): AzureAdapter {
  const clock = opts.clock ?? systemClock;
  const now = (): number => clock.now().getTime();
  const retry: RetryOptions = { ...DEFAULT_RETRY_OPTIONS, ...opts.retry };
  if (opts.maxRetries !== undefined) retry.maxRetries = opts.maxRetries;
  validateRetryOptions(retry);
  if (opts.limiter !== undefined && opts.rateLimit !== undefined) {
    throw new RangeError("rateLimit and limiter are alternatives: set the limits on the limiter");
  }
  const limiter = opts.limiter ?? new SubscriptionRateLimiter(rateLimits(opts.rateLimit));
  const requestTimeoutMs = positiveInt("requestTimeoutMs", opts.requestTimeoutMs, 30_000, 600_000);
  const pollIntervalMs = positiveInt("pollIntervalMs", opts.pollIntervalMs, 500, 60_000);
  const operationTimeoutMs = positiveInt("operationTimeoutMs", opts.operationTimeoutMs, 120_000, 3_600_000);
  /** Options of the SDK's long-running NSG PUT (write mode `nsg`): poll interval and an overall deadline. */
  const lro = (): { updateIntervalInMs: number; abortSignal: AbortSignal } => ({
    updateIntervalInMs: pollIntervalMs,
    abortSignal: AbortSignal.timeout(operationTimeoutMs),
  });
  const log = opts.logger;
  const endpoint = normalizeEndpoint(opts.endpoint);
  const factory = new ArmClientFactory({
    credential: opts.credential,
    endpoint,
    caPem: opts.caPem,
    policy: armPolicy({
      clock,
      limiter,
      retry,
      requestTimeoutMs,
      random: opts.random ?? Math.random,
      logger: log,
      onArmCall: opts.onArmCall,
    }),
  });
  const clientsFor = (sub: string): ReturnType<ArmClientFactory["for"]> => factory.for(sub);
  // Sends list pages and rule writes through the network client's own pipeline (listPages and
  // rule-write.ts say why).
  const httpClient = createDefaultHttpClient();
  const vmCache = new AsyncTtlCache<ResolvedVm>({ ttlMs: opts.vmCacheTtlMs ?? 5 * 60_000, now });
  // The SDK document each read or written ObservedNsg was made from, so an nsg-mode PUT can send
  // back every property as read. Weak: it lives exactly as long as the caller holds the ObservedNsg.
  // Listed NSGs have none (listPages says why): a PUT of one reads it first.
  const sdkDocs = new WeakMap<ObservedNsg, NetworkSecurityGroup>();
  let lastListPages = 0;

  function observe(doc: NetworkSecurityGroup): ObservedNsg {
    const nsg = fromSdkNsg(doc);
    sdkDocs.set(nsg, doc);
    return nsg;
  }

  async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = toAzureError(err, what, now());
      log.debug({ err: e, kind: e.kind, code: e.code, status: e.statusCode }, "ARM call failed");
      throw e;
    }
  }

  function refuseForeign(op: string, nsgId: string, ruleName: string): void {
    if (!isManagedRule({ name: ruleName })) {
      throw new AzureError(
        "Invalid",
        `${op}: refusing to touch rule ${JSON.stringify(ruleName)} in ${nsgId}: only drawbridge- rules are managed`,
        { code: "ForeignRuleRefused" },
      );
    }
  }

  /**
   * NetworkSecurityGroups_ListAll, page by page, through the SDK network client's pipeline (auth,
   * the ARM policy, the agent) but without its model layer: the SDK deserializes every property of
   * every NSG (default rules, subnets, interfaces) into new objects, which at 20,000 NSGs was half
   * the CPU of a list and most of its garbage, and only the fields fromArmNsg reads are needed.
   * Each page is handed over and dropped before the next is fetched. Returns the pages read.
   */
  async function listPages(subscriptionId: string, onPage: (value: unknown[]) => void): Promise<number> {
    const pipeline = clientsFor(subscriptionId).network.pipeline;
    let url: string | undefined =
      `${endpoint}/subscriptions/${encodeURIComponent(subscriptionId)}` +
      `/providers/Microsoft.Network/networkSecurityGroups?api-version=${NSG_LIST_API_VERSION}`;
    let pages = 0;
    while (url !== undefined) {
      const request = createPipelineRequest({
        url,
        method: "GET",
        headers: createHttpHeaders({ accept: "application/json" }),
      });
      const page = listPage(await pipeline.sendRequest(httpClient, request));
      pages++;
      onPage(page.value);
      url = page.nextLink === undefined ? undefined : withApiVersion(page.nextLink, NSG_LIST_API_VERSION);
    }
    return pages;
  }

  /** A rule write's pipeline and poll timing: the network client's pipeline, as listPages. */
  function ruleWriter(subscriptionId: string): RuleWriteDeps {
    return { pipeline: clientsFor(subscriptionId).network.pipeline, httpClient, clock, pollIntervalMs };
  }

  async function readNsg(nsgId: string): Promise<NetworkSecurityGroup> {
    const id = parseNsgId(nsgId);
    return clientsFor(id.subscriptionId).network.networkSecurityGroups.get(id.resourceGroup, id.name);
  }

  return {
    resolveVirtualMachine(vmId: string): Promise<ResolvedVm> {
      return guarded(`resolve VM ${vmId}`, () =>
        vmCache.get(normalizeId(vmId), () => resolveVm(clientsFor, vmId)),
      );
    },

    getNsg(nsgId: string): Promise<ObservedNsg> {
      return guarded(`GET NSG ${nsgId}`, async () => observe(await readNsg(nsgId)));
    },

    listNsgs(subscriptionId: string): Promise<ObservedNsg[]> {
      return guarded(`list NSGs of subscription ${subscriptionId}`, async () => {
        if (!/^[0-9a-zA-Z-]{1,64}$/.test(subscriptionId)) {
          throw new AzureError(
            "Invalid",
            `subscription id ${JSON.stringify(subscriptionId)} is not a valid id`,
            {
              code: "InvalidSubscriptionId",
            },
          );
        }
        const out: ObservedNsg[] = [];
        const pages = await listPages(subscriptionId, (value) => {
          for (const doc of value) out.push(fromArmNsg(doc));
        });
        lastListPages = pages;
        log.debug({ subscriptionId, pages, nsgs: out.length }, "listed NSGs");
        return out;
      });
    },

    putRule(nsgId: string, rule: SecurityRule): Promise<void> {
      return guarded(`PUT rule ${rule.name} in ${nsgId}`, async () => {
        refuseForeign("putRule", nsgId, rule.name);
        const id = parseNsgId(nsgId);
        // Polled by rule-write.ts, which (unlike the SDK's poller) does not read the rule back.
        await writeRule(
          ruleWriter(id.subscriptionId),
          "PUT",
          securityRuleUrl(endpoint, id, rule.name),
          ruleWireBody(rule),
          AbortSignal.timeout(operationTimeoutMs),
        );
      });
    },

    deleteRule(nsgId: string, ruleName: string): Promise<void> {
      return guarded(`DELETE rule ${ruleName} in ${nsgId}`, async () => {
        refuseForeign("deleteRule", nsgId, ruleName);
        const id = parseNsgId(nsgId);
        try {
          await writeRule(
            ruleWriter(id.subscriptionId),
            "DELETE",
            securityRuleUrl(endpoint, id, ruleName),
            undefined,
            AbortSignal.timeout(operationTimeoutMs),
          );
        } catch (err) {
          // Already gone is what we wanted. (A missing NSG is also a 404: nothing left to revoke.)
          if (toAzureError(err, "", now()).kind === "NotFound") return;
          throw err;
        }
      });
    },

    replaceRules(nsg: ObservedNsg, securityRules: SecurityRule[]): Promise<ObservedNsg> {
      return guarded(`PUT NSG ${nsg.id}`, async () => {
        const etag = nsg.etag;
        if (etag === undefined || etag === "") {
          throw new AzureError(
            "Invalid",
            `replaceRules: NSG ${nsg.id} has no etag; read it with getNsg first`,
            {
              code: "MissingEtag",
            },
          );
        }
        let doc = sdkDocs.get(nsg);
        if (doc?.etag !== etag) {
          doc = await readNsg(nsg.id);
          if (doc.etag !== etag) {
            throw new AzureError(
              "PreconditionFailed",
              `PUT NSG ${nsg.id}: it changed since it was read (etag ${etag}, now ${doc.etag ?? "none"}); re-read and re-plan`,
              { code: "PreconditionFailed", statusCode: 412 },
            );
          }
        }
        const id = parseNsgId(nsg.id);
        const body = buildNsgPutBody(doc, securityRules);
        const written = await clientsFor(id.subscriptionId)
          .network.networkSecurityGroups.createOrUpdate(id.resourceGroup, id.name, body, {
            ...lro(),
            requestOptions: { headers: { "If-Match": etag } },
          })
          .pollUntilDone();
        return observe(written);
      });
    },

    invalidateVm(vmId: string): void {
      vmCache.invalidate(normalizeId(vmId));
    },

    stats(): AzureAdapterStats {
      return { lastListPages, rateLimitedCalls: limiter.delayedCalls, vmLoads: vmCache.loads };
    },

    close(): void {
      vmCache.clear();
      factory.close();
    },
  };
}
