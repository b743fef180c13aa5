// The AccessRequest reconciler (key "namespace/name"): gather the facts from the caches, the core
// and the NSG ledger, decide with decideRequest, and apply: finalizer, status (only when changed),
// Events, NSG wake-ups, deletion after retention.
import type { AccessRequest, GrantRuleStatus } from "../api/types.ts";
import { FINALIZER } from "../api/types.ts";
import { parseDuration, validateRequest } from "../core/index.ts";
import type { Grant, Verdict } from "../core/index.ts";
import type { BindingIndex } from "./bindings.ts";
import type { Caches } from "./caches.ts";
import { deepEqual } from "./conditions.ts";
import type { GrantIndex } from "./grant-index.ts";
import { isNotFound } from "./kube.ts";
import type { KubeWriter, Written } from "./kube.ts";
import type { EventRecorder } from "./events.ts";
import type { Ledger, Reason } from "./ledger.ts";
import { decideRequest } from "./request-decision.ts";
import type { RequestDecision, RequestFacts } from "./request-decision.ts";
import type { Clock } from "./runtime/clock.ts";
import type { Logger } from "./runtime/logger.ts";
import type { Metrics } from "./runtime/metrics.ts";
import type { HandlerResult } from "./runtime/queue.ts";

export interface RequestReconcilerDeps {
  /** Policies as scoped: targets outside the namespace's JitScopes are left out. */
  caches: Caches;
  /** A denial when the request reaches for a target outside its policy's JitScopes. */
  scopeVerdict?(request: AccessRequest): Verdict | undefined;
  /** Whether the requester admission policy guards a namespace (undefined: not checked, as guarded). */
  admissionGuard?(namespace: string): RequestFacts["guard"];
  bindings: BindingIndex;
  grants: GrantIndex;
  ledger: Ledger;
  kube: KubeWriter;
  events: EventRecorder;
  /** Feed an object a write returned into the request cache, ahead of its watch event. */
  observe(obj: Written): void;
  clock: Clock;
  log: Logger;
  metrics: Metrics | undefined;
  retentionMs: number;
  wakeNsg(nsgKey: string, afterMs?: number): void;
}

interface NsgView {
  placement: { complete: boolean; rules: GrantRuleStatus[] };
  rejected: Reason | undefined;
  failed: Reason | undefined;
}

export class RequestReconciler {
  readonly #d: RequestReconcilerDeps;
  /** Ledger sequence at which a request was first seen not to be a grant (for finalizer removal). */
  readonly #marks = new Map<string, number>();

  constructor(deps: RequestReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const d = this.#d;
    const request = d.caches.request(key);
    if (request === undefined) {
      this.#marks.delete(key);
      return {};
    }
    const now = d.clock.now();
    const policyKey = `${request.metadata.namespace ?? ""}/${request.spec.policyName}`;
    const policy = d.caches.policy(policyKey);
    const livePolicy = policy?.metadata.deletionTimestamp === undefined ? policy : undefined;
    const mine = d.grants.forRequest(key, now);
    const duration = parseDuration(request.spec.duration);
    const facts: RequestFacts = {
      request,
      now,
      verdict:
        (livePolicy === undefined ? undefined : d.scopeVerdict?.(request)) ??
        validateRequest(request, livePolicy),
      durationMs: duration.ok ? duration.ms : undefined,
      activeGrantCount: mine.length,
      ...this.#nsgView(key, mine),
      cleared:
        request.metadata.deletionTimestamp !== undefined && this.#cleared(key, policyKey, mine.length === 0),
      retentionMs: d.retentionMs,
      guard: d.admissionGuard?.(request.metadata.namespace ?? "") ?? { ok: true },
    };
    const decision = decideRequest(facts);
    d.metrics?.activeGrants.set(d.grants.activeRequests(now));
    await this.#apply(request, decision, policyKey, mine);
    return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  }

  #nsgView(key: string, grants: Grant[]): NsgView {
    const d = this.#d;
    const rules: GrantRuleStatus[] = [];
    let complete = grants.length > 0;
    let rejected: Reason | undefined;
    let failed: Reason | undefined;
    for (const g of grants) {
      const nsgs = d.bindings.nsgsOf(g.policyKey, g.targetId);
      if (nsgs.length === 0) complete = false;
      for (const nsg of nsgs) {
        const rec = d.ledger.get(nsg);
        rejected ??= rec?.rejected.get(key);
        failed ??= rec?.failed.get(key);
        const placed = rec?.placements.get(key)?.find((r) => r.port === g.port && r.protocol === g.protocol);
        if (placed === undefined) complete = false;
        else if (
          !rules.some(
            (r) =>
              r.networkSecurityGroupId === placed.networkSecurityGroupId && r.ruleName === placed.ruleName,
          )
        ) {
          rules.push(placed);
        }
      }
    }
    return { placement: { complete, rules }, rejected, failed };
  }

  /** True once every NSG of the policy was reconciled after the request stopped being a grant. */
  #cleared(key: string, policyKey: string, notAGrant: boolean): boolean {
    const d = this.#d;
    if (!notAGrant) {
      this.#marks.delete(key);
      return false;
    }
    let mark = this.#marks.get(key);
    if (mark === undefined) {
      mark = d.ledger.mark();
      this.#marks.set(key, mark);
    }
    let cleared = true;
    for (const nsg of d.bindings.nsgsOf(policyKey)) {
      const rec = d.ledger.get(nsg);
      if (rec !== undefined && rec.seq > mark && !rec.placements.has(key)) continue;
      cleared = false;
      d.ledger.addWaiter(nsg, key);
    }
    return cleared;
  }

  async #apply(
    request: AccessRequest,
    dec: RequestDecision,
    policyKey: string,
    mine: Grant[],
  ): Promise<void> {
    const meta = request.metadata;
    const log = this.#d.log.child({
      request: `${meta.namespace ?? ""}/${meta.name ?? ""}`,
      policy: policyKey,
    });
    try {
      await this.#write(request, dec, log);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.#wake(dec, policyKey, mine, request);
  }

  async #write(request: AccessRequest, dec: RequestDecision, log: Logger): Promise<void> {
    const d = this.#d;
    const meta = request.metadata;
    const finalizers = meta.finalizers ?? [];
    // Each write result goes into the cache at once: the NSG keys see an approval without waiting for
    // the watch, and the next reconcile of this request starts from the current resourceVersion.
    if (dec.addFinalizer)
      d.observe(await d.kube.setFinalizers("AccessRequest", meta, [...finalizers, FINALIZER]));
    if (dec.status !== undefined && !deepEqual(dec.status, request.status ?? {})) {
      d.observe(await d.kube.patchStatus("AccessRequest", meta, dec.status));
      if (dec.status.phase !== request.status?.phase) {
        log.info({ phase: dec.status.phase, reason: dec.status.reason }, dec.status.message ?? "");
        this.#observeGrantLatency(request, dec);
      }
    }
    for (const e of dec.events) d.events.record("AccessRequest", meta, e);
    if (dec.removeFinalizer) {
      await d.kube.setFinalizers(
        "AccessRequest",
        meta,
        finalizers.filter((f) => f !== FINALIZER),
      );
      log.info("finalizer removed; no NSG carries the grant");
    }
    if (dec.deleteObject) {
      await d.kube.deleteObject("AccessRequest", meta);
      log.info("deleted after the retention period");
    }
  }

  #observeGrantLatency(request: AccessRequest, dec: RequestDecision): void {
    if (dec.status?.phase !== "Active") return;
    const start = Date.parse(request.status?.startTime ?? "");
    if (!Number.isNaN(start))
      this.#d.metrics?.grantLatency.observe((this.#d.clock.now().getTime() - start) / 1000);
  }

  #wake(dec: RequestDecision, policyKey: string, mine: Grant[], request: AccessRequest): void {
    const d = this.#d;
    const nsgs = new Set<string>();
    if (dec.wakeNsgs) {
      const targets = mine.length > 0 ? mine.map((g) => g.targetId) : [undefined];
      for (const t of targets) for (const k of d.bindings.nsgsOf(policyKey, t)) nsgs.add(k);
      for (const k of nsgs) d.wakeNsg(k);
    }
    const expiresAt = Date.parse(dec.status?.expiresAt ?? request.status?.expiresAt ?? "");
    const left = expiresAt - d.clock.now().getTime();
    if (!Number.isNaN(expiresAt) && left > 0) {
      for (const g of mine) for (const k of d.bindings.nsgsOf(policyKey, g.targetId)) d.wakeNsg(k, left);
    }
  }
}
