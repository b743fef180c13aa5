// The AccessRequest reconciler (key "namespace/name"): gather the facts from the caches, the core
// and the NSG ledger, decide with decideRequest, and apply: finalizer, status (only when changed),
// Events, NSG wake-ups, deletion after retention.
import { withRequestKstatus } from "../../kube/kstatus-conditions.ts";
import type {
  AccessApproval,
  AccessRequest,
  AccessRequestStatus,
  GrantRuleStatus,
  JitPolicy,
} from "../../api/types.ts";
import { FINALIZER } from "../../api/types.ts";
import { approvalSnapshot } from "../../core/grants.ts";
import { activeGrants, parseDuration, validateRequest, verdictOf } from "../../core/index.ts";
import { sourceUnionOf } from "./source-union-facts.ts";
import { auditEvent, auditRecord, deletionRecord } from "./audit.ts";
import type { AuditRecord } from "./audit.ts";
import type { Grant, Verdict } from "../../core/index.ts";
import { ClearanceWait } from "../state/clearance.ts";
import type { BindingIndex } from "../state/bindings.ts";
import type { Caches } from "../state/caches.ts";
import { deepEqual } from "../../kube/conditions.ts";
import type { GrantIndex } from "../state/grant-index.ts";
import { policyKeyOf } from "../../core/keys.ts";
import { isNotFound } from "../../kube/kube.ts";
import type { KubeWriter, Written } from "../../kube/kube.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { Ledger, Reason } from "../state/ledger.ts";
import { isTerminal } from "../../core/phases.ts";
import { renewalFacts } from "./renewal-facts.ts";
import { decideRequest } from "./decision.ts";
import type { RequestDecision, RequestFacts, RequestLimits } from "./decision.ts";
import { signApproval } from "../../core/approval-signature.ts";
import type { ApprovalVerifier, SigningKey } from "../../core/approval-signature.ts";
import { approvalFacts, notifyDecision } from "./approval-facts.ts";
import { ApprovalsInFlight } from "./in-flight.ts";
import { approvalWrite } from "./approval-write.ts";
import type { ApprovalWrite } from "./approval-write.ts";
import type { GrantedAtSend } from "./grant-at-send.ts";
import { PlacementWaits } from "./placement-waits.ts";
import { ApprovalOutcomeUnknown, MAX_OUTCOME_READS, approvalStands, maybeLanded } from "./unknown-outcome.ts";
import type { RequestNotifier } from "./approval-facts.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { Metrics } from "../../runtime/metrics.ts";
import type { HandlerResult } from "../../runtime/queue.ts";

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
  /** Retention of Denied requests and of those closed before approval. */
  deniedRetentionMs: number;
  /** Open requests per requester and per namespace; over them a request is Denied. */
  limits: RequestLimits;
  wakeNsg(nsgKey: string, afterMs?: number): void;
  /** The operator's signing key: approvals are signed with it and only verified ones count (ADR 0012). */
  signing: SigningKey;
  /** approvalVerifier(signing), shared with the grant index. */
  isAuthentic: ApprovalVerifier;
  /** The cached AccessApprovals of a namespace (undefined: approvals are not read, none count). */
  approvals?(namespace: string): Iterable<AccessApproval>;
  /** Whether the approver admission policy guards a namespace; unguarded, no approval counts. */
  approvalGuard?(namespace: string): { ok: boolean };
  /** Fire-and-forget notifications of what happened to a request (never awaited). */
  notify?: RequestNotifier;
  /**
   * Approvals whose status write is in flight, shared with the grant index (ADR 0016); without it
   * the reconciler keeps its own, which only the source-union bound and the open count read.
   */
  inFlight?: ApprovalsInFlight;
  /**
   * How long after its decision an early approval's status write waits for the NSG rules, so that
   * one write says approved and Active (ADR 0021); 0 sends it as soon as the finalizer landed.
   */
  grantWaitMs: number;
  /**
   * Sharded: whether this replica writes the NSG. Another replica's NSG gets no rule for an approval
   * in flight here (the in-flight set is this process's), so waiting for it would only delay the
   * approval. Undefined: every NSG is written here.
   */
  writesNsg?: (nsgKey: string) => boolean;
}

/** An approval whose status write may have landed, not confirmed yet: its grant stays in flight. */
interface Unresolved {
  /** The uid of the object decided. */
  uid: string | undefined;
  /** The status the write carried. */
  sent: AccessRequestStatus;
  /** What the write would have done after it landed (cache, audit, Events). */
  confirm: (read: Written) => void;
  policyKey: string;
  grants: Grant[];
  early: boolean;
  /** Reads that failed so far. */
  reads: number;
}

interface NsgView {
  placement: { complete: boolean; rules: GrantRuleStatus[] };
  rejected: Reason | undefined;
  failed: Reason | undefined;
}

export class RequestReconciler {
  readonly #d: RequestReconcilerDeps;
  /** The finalizer wait from the moment a request stopped being a grant. */
  readonly #clearance: ClearanceWait;
  /**
   * Grants of approvals whose status write is in flight, by request key. Requests reconcile
   * concurrently; until the write lands in the cache these still count towards the source union of
   * their rules, so concurrent approvals cannot cross the bound together, and (shared with the grant
   * index) the NSGs plan with them at once instead of after the finalizer and approval writes.
   */
  readonly #inFlight: ApprovalsInFlight;
  /**
   * Requests whose last approval write did not land: the next approval waits for its write before
   * any NSG plans with it, so an API server that keeps refusing it cannot make a rule come and go.
   */
  readonly #unlanded = new Set<string>();
  /**
   * Approvals whose status write failed in a way that may have applied it and whose read-back
   * failed too, by request key (ADR 0021): the grant stays in flight, and the request's next
   * reconcile reads again before it decides anything.
   */
  readonly #unresolved = new Map<string, Unresolved>();
  readonly #placementWaits: PlacementWaits;

  constructor(deps: RequestReconcilerDeps) {
    this.#d = deps;
    this.#clearance = new ClearanceWait(deps.ledger);
    this.#inFlight = deps.inFlight ?? new ApprovalsInFlight();
    this.#placementWaits = new PlacementWaits(deps.clock);
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const d = this.#d;
    const pending = this.#unresolved.get(key);
    if (pending !== undefined) await this.#resolve(key, pending);
    const request = d.caches.request(key);
    if (request === undefined) {
      this.#clearance.forget(key);
      this.#unlanded.delete(key);
      return {};
    }
    const now = d.clock.now();
    const policyKey = policyKeyOf(request);
    const policy = d.caches.policy(policyKey);
    const livePolicy = policy?.metadata.deletionTimestamp === undefined ? policy : undefined;
    const mine = d.grants.forRequest(key, now);
    const duration = parseDuration(request.spec.duration);
    const facts: RequestFacts = {
      request,
      now,
      verdict: this.#verdict(request, livePolicy, policyKey, now),
      durationMs: duration.ok ? duration.ms : undefined,
      activeGrantCount: mine.length,
      ...this.#nsgView(key, mine),
      cleared:
        request.metadata.deletionTimestamp !== undefined && this.#cleared(key, policyKey, mine.length === 0),
      retentionMs: d.retentionMs,
      deniedRetentionMs: d.deniedRetentionMs,
      limits: d.limits,
      ...this.#approvalInputs(request, livePolicy),
      authentic: request.status?.startTime === undefined || d.isAuthentic(request),
      signApproval: (status) => signApproval(d.signing.key, request, status),
      ...renewalFacts(request, livePolicy, now, duration.ok ? duration.ms : undefined, {
        request: (k) => d.caches.request(k),
        // Renewals decided but not yet written count too: two renewals of one grant reconciled at
        // once must not both be approved (a grant is renewed once, not forked).
        renewalsOf: (namespace, name) =>
          d.caches.renewalsOf(namespace, name).map((r) => this.#inFlight.decided(r)),
        isAuthentic: d.isAuthentic,
      }),
    };
    const decision = decideRequest(facts);
    d.metrics?.activeGrants.set(d.grants.activeRequests(now));
    if (livePolicy !== undefined && decision.status !== undefined && isApproval(request, decision.status)) {
      const approved = { ...request, status: decision.status };
      const grants = activeGrants([livePolicy], [approved], now, d.isAuthentic).grants;
      await this.#approve(key, request, decision, policyKey, grants, facts.placement.rules);
    } else {
      await this.#apply(request, decision, policyKey, mine, facts.placement.rules);
    }
    return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  }

  async #approve(
    key: string,
    request: AccessRequest,
    decision: RequestDecision,
    policyKey: string,
    grants: Grant[],
    placed: GrantRuleStatus[],
  ): Promise<void> {
    const d = this.#d;
    const status = decision.status ?? {};
    // The approval is decided and signed: its NSGs plan with it now, while the finalizer and the
    // status are written (ADR 0016). If the status write does not land, the approval ends here and
    // the same NSGs are planned again without it, which removes any rule already written for it.
    const early = !this.#unlanded.has(key);
    const decidedAt = d.clock.now().getTime();
    let unresolved = false;
    try {
      // Inside the try: whatever throws after begin(), end() runs, so no entry outlives its write.
      this.#inFlight.begin(key, request, status, grants, early);
      if (early) {
        this.#wakeGrants(policyKey, grants);
        // Woken above, and again by the write's own cache update: not a third time after the writes.
        if (grants.length > 0) decision.wakeNsgs = false;
      }
      // Sent after the finalizer (and any wait for a write slot): by then the NSGs may carry the grant,
      // and the one status write says Active too (ADR 0021).
      const write = approvalWrite({
        key,
        uid: request.metadata.uid,
        // Between the finalizer and the status: the rules of an early approval usually follow within
        // one NSG write.
        deadline: decidedAt + (this.#rulesCanFollow(policyKey, grants) ? d.grantWaitMs : 0),
        clock: d.clock,
        waits: this.#placementWaits,
        current: () => d.caches.request(key),
        early: () => this.#inFlight.early(key),
        view: () => this.#nsgView(key, grants),
      });
      await this.#apply(request, decision, policyKey, [], placed, write);
    } catch (err) {
      // The write may have landed and the read that would tell failed: withdrawing now could take
      // out a rule the status claims, so the grant stays in flight until a read tells.
      if (err instanceof ApprovalOutcomeUnknown) {
        unresolved = true;
        const { sent, confirm } = err;
        this.#unresolved.set(key, {
          uid: request.metadata.uid,
          sent,
          confirm,
          policyKey,
          grants,
          early,
          reads: 1,
        });
      }
      throw err;
    } finally {
      if (!unresolved) this.#settle(key, request.metadata.uid, policyKey, grants, early);
    }
  }

  /**
   * The approval's write is over: it leaves the in-flight set. Landed, the cache carries it and the
   * grant goes on from there; not landed, its NSGs are planned again without it.
   */
  #settle(key: string, uid: string | undefined, policyKey: string, grants: Grant[], early: boolean): void {
    const d = this.#d;
    this.#inFlight.end(key);
    const current = d.caches.request(key);
    // The decided object itself, not a re-created namesake.
    const landed = current?.metadata.uid === uid && current?.status?.startTime !== undefined;
    if (landed) this.#unlanded.delete(key);
    else if (current !== undefined) this.#unlanded.add(key);
    // Not landed: plan the NSGs again without it, which removes a rule already written for it.
    if (early && !landed) this.#wakeGrants(policyKey, grants);
  }

  /**
   * An approval whose write's outcome is still unknown: the cache, once its watch caught up, or else
   * a read from the API server tells whether it landed. A read that fails again keeps the grant in
   * flight (thrown: the queue's backoff) up to MAX_OUTCOME_READS, then it is withdrawn all the same.
   */
  async #resolve(key: string, p: Unresolved): Promise<void> {
    const d = this.#d;
    const cached = d.caches.request(key);
    let read: Written | undefined;
    if (cached !== undefined && cached.metadata.uid === p.uid && cached.status?.startTime !== undefined)
      read = cached as unknown as Written;
    else if (cached !== undefined) {
      try {
        read = await d.kube.getObject("AccessRequest", cached.metadata);
      } catch (err) {
        p.reads++;
        if (p.reads < MAX_OUTCOME_READS) throw err;
        d.log.warn({ request: key, reads: p.reads }, "approval write outcome still unknown; withdrawn");
      }
    }
    this.#unresolved.delete(key);
    if (approvalStands(read as AccessRequest | undefined, p.uid, p.sent, d.clock.now())) {
      d.log.info({ request: key }, "approval write confirmed by reading it back");
      p.confirm(read as Written);
    }
    this.#settle(key, p.uid, p.policyKey, p.grants, p.early);
  }

  /**
   * A request's NSG placement changed (placed, rejected or failed), or its object did: an approval
   * write waiting for its rules looks again.
   */
  changed(key: string): void {
    this.#placementWaits.changed(key);
  }

  /**
   * Whether the grants' rules can be in place before the approval lands: each grant bound to some
   * NSG, and every such NSG written by this replica. Otherwise the approval is sent at once.
   */
  #rulesCanFollow(policyKey: string, grants: Grant[]): boolean {
    if (grants.length === 0) return false;
    const writes = this.#d.writesNsg;
    for (const g of grants) {
      const nsgs = this.#d.bindings.nsgsOf(policyKey, g.targetId);
      if (nsgs.length === 0) return false;
      if (writes !== undefined && !nsgs.every(writes)) return false;
    }
    return true;
  }

  #wakeGrants(policyKey: string, grants: Grant[]): void {
    const nsgs = new Set<string>();
    for (const g of grants) for (const k of this.#d.bindings.nsgsOf(policyKey, g.targetId)) nsgs.add(k);
    for (const k of nsgs) this.#d.wakeNsg(k);
  }

  /** What only an approval needs: each is computed lazily or cheaply, once per decision. */
  #approvalInputs(
    request: AccessRequest,
    livePolicy: JitPolicy | undefined,
  ): Pick<RequestFacts, "openAhead" | "guard" | "approvedSnapshot" | "approval"> {
    const d = this.#d;
    return {
      approval: () => (livePolicy === undefined ? undefined : approvalFacts(request, livePolicy, this.#d)),
      // Only an undecided request counts (once per decision), from the index, not a scan of the cache.
      openAhead: () => d.caches.openAhead(request, this.#inFlight.keys()),
      guard: d.admissionGuard?.(request.metadata.namespace ?? "") ?? { ok: true },
      // What an approval binds the grant to: the live policy's targets and port protocols now.
      ...(livePolicy === undefined ? {} : { approvedSnapshot: () => approvalSnapshot(request, livePolicy) }),
    };
  }

  /**
   * The policy's verdict; for a request not yet approved also the bound on what one allow rule may
   * carry, against the policy's active grants and the approvals in flight (its own left out).
   */
  #verdict(request: AccessRequest, policy: JitPolicy | undefined, policyKey: string, now: Date): Verdict {
    const d = this.#d;
    const verdict =
      (policy === undefined ? undefined : d.scopeVerdict?.(request)) ?? validateRequest(request, policy);
    const status = request.status;
    const undecided = status?.startTime === undefined && (status?.phase ?? "Pending") === "Pending";
    if (!verdict.allowed || policy === undefined || !undecided) return verdict;
    const union = sourceUnionOf(request, policy, policyKey, d.grants, this.#inFlight.approvals(), now);
    return union === undefined ? verdict : verdictOf([union]);
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
        // Placed for this very grant: rules planned for an earlier approval of the request that did
        // not land may be on their way out (see Placement).
        const placement = rec?.placements.get(key);
        const placed =
          placement !== undefined && placement.expiresAt === g.expiresAt.getTime()
            ? placement.rules.find((r) => r.port === g.port && r.protocol === g.protocol)
            : undefined;
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
      this.#clearance.forget(key);
      return false;
    }
    const pending = this.#clearance.pending(key, d.bindings.nsgsOf(policyKey), (rec) =>
      rec.placements.has(key),
    );
    for (const nsg of pending) d.ledger.addWaiter(nsg, key);
    return pending.length === 0;
  }

  async #apply(
    request: AccessRequest,
    dec: RequestDecision,
    policyKey: string,
    mine: Grant[],
    placed: GrantRuleStatus[],
    approval?: ApprovalWrite,
  ): Promise<void> {
    const meta = request.metadata;
    const log = this.#d.log.child({
      request: `${meta.namespace ?? ""}/${meta.name ?? ""}`,
      policy: policyKey,
    });
    try {
      await this.#write(request, dec, log, placed, approval);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.#wake(dec, policyKey, mine, request);
  }

  async #write(
    request: AccessRequest,
    dec: RequestDecision,
    log: Logger,
    placed: GrantRuleStatus[],
    approval?: ApprovalWrite,
  ): Promise<void> {
    const d = this.#d;
    const meta = request.metadata;
    const finalizers = meta.finalizers ?? [];
    // Each write result goes into the cache at once: the NSG keys see an approval without waiting for
    // the watch, and the next reconcile of this request starts from the current resourceVersion.
    if (dec.addFinalizer)
      d.observe(await d.kube.setFinalizers("AccessRequest", meta, [...finalizers, FINALIZER]));
    // kstatus conventions (Reconciling/Stalled) for GitOps tools, derived from the decided status.
    if (dec.status !== undefined) dec.status = withRequestKstatus(dec.status, d.clock.now(), meta.generation);
    // Events and notifications follow the status they report (#statusWritten), or come alone.
    if (dec.status !== undefined && !deepEqual(dec.status, request.status ?? {}))
      await this.#writeStatus(request, dec, dec.status, log, placed, approval);
    else this.#announce(request, dec, undefined);
    if (dec.removeFinalizer) {
      await d.kube.setFinalizers(
        "AccessRequest",
        meta,
        finalizers.filter((f) => f !== FINALIZER),
      );
      log.info("finalizer removed; no NSG carries the grant");
      const status = request.status;
      if (status?.startTime !== undefined && !isTerminal(status.phase)) this.#audit(deletionRecord(request));
    }
    if (dec.deleteObject) {
      await d.kube.deleteObject("AccessRequest", meta);
      log.info("deleted after the retention period");
    }
  }

  /**
   * Events and notifications of a decision written; when its approval was written as Active too,
   * then also those of the grant, as a separate Active write would have made them.
   */
  #announce(request: AccessRequest, dec: RequestDecision, granted: GrantedAtSend | undefined): void {
    const d = this.#d;
    const meta = request.metadata;
    for (const e of dec.events) d.events.record("AccessRequest", meta, e);
    if (granted !== undefined) d.events.record("AccessRequest", meta, granted.event);
    if (d.notify === undefined) return;
    notifyDecision(d.notify, request, dec, d.clock.now());
    if (granted === undefined) return;
    const active: RequestDecision = {
      ...dec,
      status: granted.status,
      events: [granted.event],
      addFinalizer: false,
    };
    notifyDecision(d.notify, { ...request, status: dec.status }, active, d.clock.now());
  }

  /**
   * The status write; an approval's may also say Active (ADR 0021). An approval's write that failed
   * but may have landed is read back before it counts as lost.
   */
  async #writeStatus(
    request: AccessRequest,
    dec: RequestDecision,
    decided: AccessRequestStatus,
    log: Logger,
    placed: GrantRuleStatus[],
    approval: ApprovalWrite | undefined,
  ): Promise<void> {
    const d = this.#d;
    const meta = request.metadata;
    await approval?.ready();
    const at: { sent?: AccessRequestStatus; granted?: GrantedAtSend } = {};
    const compose = (): AccessRequestStatus => {
      at.granted = approval?.atSend(decided);
      at.sent =
        at.granted === undefined
          ? decided
          : withRequestKstatus(at.granted.status, d.clock.now(), meta.generation);
      return at.sent;
    };
    const confirm = (written: Written): void => {
      this.#statusWritten(request, dec, decided, log, placed, written, at.granted);
    };
    let written: Written;
    try {
      written = await d.kube.patchStatusFrom("AccessRequest", meta, compose);
    } catch (err) {
      if (approval === undefined || at.sent === undefined || !maybeLanded(err)) throw err;
      written = await this.#readBack(request, at.sent, err, confirm, log);
    }
    confirm(written);
  }

  /**
   * An approval's status write failed in a way that may have applied it (a timeout, a reset, a 5xx):
   * the API server's object tells. It carries this very approval, still granting: the write counts
   * as written. Otherwise the write's own error (the approval is withdrawn); the read failing: the
   * outcome stays unknown (ApprovalOutcomeUnknown).
   */
  async #readBack(
    request: AccessRequest,
    sent: AccessRequestStatus,
    err: unknown,
    confirm: (read: Written) => void,
    log: Logger,
  ): Promise<Written> {
    const d = this.#d;
    let read: Written | undefined;
    try {
      read = await d.kube.getObject("AccessRequest", request.metadata);
    } catch (readErr) {
      throw new ApprovalOutcomeUnknown(readErr, sent, confirm);
    }
    const stands = approvalStands(
      read as AccessRequest | undefined,
      request.metadata.uid,
      sent,
      d.clock.now(),
    );
    if (!stands || read === undefined) throw err;
    log.info("approval status write failed but landed (read back)");
    return read;
  }

  /**
   * A status write landed: its object goes into the cache, then the audit records, Events and
   * notifications; when an approval was written as Active too, also those of the grant.
   */
  #statusWritten(
    request: AccessRequest,
    dec: RequestDecision,
    decided: AccessRequestStatus,
    log: Logger,
    placed: GrantRuleStatus[],
    written: Written,
    granted: GrantedAtSend | undefined,
  ): void {
    this.#d.observe(written);
    this.#afterStatus(request, decided, log, placed);
    // One write, two transitions: the approval's record first (above), then the grant's.
    if (granted !== undefined)
      this.#afterStatus({ ...request, status: decided }, granted.status, log, granted.rules);
    this.#announce(request, dec, granted);
  }

  /** Log a phase change and its audit record: after the write succeeded, so a requeue (which
   * starts from the new status) records nothing twice. */
  #afterStatus(
    request: AccessRequest,
    status: AccessRequestStatus,
    log: Logger,
    placed: GrantRuleStatus[],
  ): void {
    const event = auditEvent(request.status, status);
    if (event !== undefined) this.#audit(auditRecord(event, request, status, placed));
    if (status.phase !== request.status?.phase) {
      log.info({ phase: status.phase, reason: status.reason }, status.message ?? "");
      this.#observeGrantLatency(request, status);
    }
  }

  #audit(record: AuditRecord): void {
    this.#d.log.info(record, `audit: ${record.event} ${record.request}`);
  }

  #observeGrantLatency(request: AccessRequest, status: AccessRequestStatus): void {
    if (status.phase !== "Active") return;
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

/** The decision approves the request now (its status gains a startTime it did not have). */
function isApproval(request: AccessRequest, status: AccessRequestStatus | undefined): boolean {
  return request.status?.startTime === undefined && status?.startTime !== undefined;
}
