// The NSG reconciler, the unit of the work queue: gather the bindings and active grants for one NSG,
// read it (or take the document a resync just listed), plan with the core, apply, and record what the
// NSG now carries so the request and policy reconcilers can report it. Plans are made for this
// operator instance: only its own rules are written or deleted. An NSG key no policy binds (queued by
// the resync because it still carries rules of this instance) is planned with zero bindings, which
// deletes those rules.
import type { AccessRequest } from "../../api/types.ts";
import type { AzurePort } from "../../azure/port.ts";
import { AzureError } from "../../azure/port.ts";
import { bindingRulePrefix, newPlanMemo, planNsg } from "../../core/index.ts";
import type { Grant, NsgPlan, ObservedNsg, PlanMemo, PolicyBinding } from "../../core/index.ts";
import type { BindingIndex } from "../state/bindings.ts";
import type { GrantIndex } from "../state/grant-index.ts";
import type { Ledger, NsgRecord, Reason } from "../state/ledger.ts";
import { holdLeft, holdMs, WriteLatency } from "./batching.ts";
import { placementsOf } from "./placements.ts";
import { applyPlan } from "./apply.ts";
import { ObservePolls, observedRecord, observedResult } from "./observe.ts";
import type { ApplyResult } from "./apply.ts";
import type { WriteMode } from "../../runtime/config.ts";
import type { Prefetch } from "./prefetch.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { Metrics } from "../../runtime/metrics.ts";
import type { HandlerResult } from "../../runtime/queue.ts";

export interface NsgReconcilerDeps {
  azure: AzurePort;
  bindings: BindingIndex;
  grants: GrantIndex;
  ledger: Ledger;
  prefetch: Prefetch;
  clock: Clock;
  log: Logger;
  metrics: Metrics | undefined;
  writeMode: WriteMode;
  /** This operator instance ("" = the default instance); see PlanInput.instance. */
  instanceId: string;
  getRequest(key: string): AccessRequest | undefined;
  /** Undecided requests of a policy (see batching.ts). */
  undecided(policyKey: string): number;
  /** Time left of the policy's arrival settle period (see batching.ts; <= 0: none). */
  settleLeft(policyKey: string): number;
  /** Longest an add-only reconcile waits for undecided requests; 0 disables batching. */
  maxHoldMs: number;
  wakeRequest(key: string): void;
  wakePolicy(key: string): void;
}

/** How long to wait before looking again at an NSG that does not exist. */
const MISSING_NSG_RETRY_MS = 30_000;
/** NSGs with fewer rules plan without the binding memo (see #memoFor). */
export const MEMO_MIN_RULES = 64;

/** The grants of the NSG's policies, and the per-policy lists they came from (see sameInputs). */
function grantsFor(
  bindings: PolicyBinding[],
  index: GrantIndex,
  now: Date,
): { grants: Grant[]; lists: Grant[][] } {
  const grants: Grant[] = [];
  const lists: Grant[][] = [];
  for (const key of new Set(bindings.map((b) => b.policyKey))) {
    const list = index.forPolicy(key, now);
    lists.push(list);
    grants.push(...list);
  }
  return { grants, lists };
}

/**
 * The binding objects and per-policy grant lists are replaced whenever anything in them changes (a
 * policy event, a request change, an expiry), so the same objects mean the same planner inputs.
 */
function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function unchangedSince(
  basis: NsgRecord["basis"],
  listed: ObservedNsg,
  inputs: unknown[],
): basis is NonNullable<NsgRecord["basis"]> {
  return basis !== undefined && listed.etag === basis.etag && sameInputs(basis.inputs, inputs);
}

function failuresOf(result: ApplyResult): Map<string, Reason> {
  const out = new Map<string, Reason>();
  for (const p of result.plan.placements) {
    const r = result.refused.get(p.ruleName);
    if (r !== undefined) out.set(p.grant.requestKey, r);
  }
  return out;
}

/** Policies that still have rules in the NSG after the apply (names compare in any letter case). */
function policiesWithRules(plan: NsgPlan, bindings: PolicyBinding[], instance: string): Set<string> {
  const out = new Set<string>();
  const names = plan.desired.map((r) => r.name.toLowerCase());
  for (const b of bindings) {
    const prefix = bindingRulePrefix(b.policyKey, b.targetId, instance).toLowerCase();
    if (names.some((n) => n.startsWith(prefix))) out.add(b.policyKey);
  }
  return out;
}

/** Each refused rule, attributed to the policy whose binding prefix its name carries. */
function refusedByPolicy(
  result: ApplyResult,
  bindings: PolicyBinding[],
  instance: string,
): Map<string, Reason> {
  const out = new Map<string, Reason>();
  if (result.refused.size === 0) return out;
  for (const b of bindings) {
    const prefix = bindingRulePrefix(b.policyKey, b.targetId, instance).toLowerCase();
    for (const [name, r] of result.refused) {
      if (!name.toLowerCase().startsWith(prefix) || out.has(b.policyKey)) continue;
      out.set(b.policyKey, { reason: r.reason, message: `rule ${name}: ${r.message}` });
    }
  }
  return out;
}

export class NsgReconciler {
  readonly #d: NsgReconcilerDeps;
  /** NSG key -> when its current batching hold began. */
  readonly #heldSince = new Map<string, number>();
  /** Seeded at 500 ms until a write is seen (ARM writes take seconds; the emulator's are configurable). */
  readonly #writeLatency = new WriteLatency(500);
  /** ARM ids of NSG keys no policy binds, as last listed or read: where their own rules are deleted. */
  readonly #unboundIds = new Map<string, string>();
  readonly #polls = new ObservePolls();
  /** Text derived from each binding object, kept across plans (core plan-memo.ts). */
  readonly #memo = newPlanMemo();

  /**
   * The memo for a plan of this NSG, or none. It costs ~1-2 KB per binding kept, and saves CPU only
   * where plans are large: at 20,000 NSGs of a few rules each it would hold tens of MiB to save
   * microseconds, so only NSGs with MEMO_MIN_RULES rules or more use it.
   */
  #memoFor(observed: ObservedNsg): PlanMemo | undefined {
    return observed.securityRules.length >= MEMO_MIN_RULES ? this.#memo : undefined;
  }

  constructor(deps: NsgReconcilerDeps) {
    this.#d = deps;
  }

  /** `observe` reads and records but never writes (an NSG of a shard another replica holds). */
  async reconcile(key: string, mode?: "write" | "observe"): Promise<HandlerResult> {
    const d = this.#d;
    const seq = d.ledger.nextSeq();
    const bindings = d.bindings.bindingsFor(key);
    const nsgId = this.#nsgId(key);
    const prev = d.ledger.get(key);
    const batch = this.#batch(key, bindings, prev);
    if (batch.waitMs > 0) return { requeueAfterMs: batch.waitMs };
    const grants = batch.grants;
    const inputs: unknown[] = [...bindings, ...(batch.lists as unknown[])];
    const listed = d.prefetch.take(key, prev?.lastWriteAt);
    // Observing, a read right after the wake would find the NSG as it was: look a little later.
    const lookAfterMs = this.#lookAfter(key, mode, listed !== undefined);
    if (lookAfterMs > 0) return { requeueAfterMs: lookAfterMs };
    // A resync listed the NSG exactly as the last converged plan left it, and nothing the plan
    // depends on changed since: the plan would be the same, so it is not made again.
    if (listed !== undefined && unchangedSince(prev?.basis, listed, inputs))
      return this.#unchanged(key, prev, seq, grants);
    let observed: ObservedNsg;
    try {
      observed = listed ?? (await d.azure.getNsg(nsgId));
    } catch (err) {
      if (!(err instanceof AzureError && err.kind === "NotFound")) throw err;
      return this.#missing(key, nsgId, prev, seq, err);
    }
    if (mode === "observe")
      return this.#observe(key, { seq, nsgId, prev, observed, bindings, grants, inputs });
    const result = await this.#apply(key, observed, bindings, grants);
    const now = d.clock.now();
    const rec = recordOf(seq, nsgId, result, {
      bindings,
      instance: d.instanceId,
      lastWriteAt: result.writes > 0 ? now.getTime() : prev?.lastWriteAt,
      basis: basisOf(observed, inputs),
    });
    this.#finish(key, prev, rec);
    this.#report(nsgId, result);
    return requeueAtExpiry(grants, now.getTime());
  }

  /** Observing: ms to wait before reading the NSG (0: go on now); see ObservePolls.defer. */
  #lookAfter(key: string, mode: "write" | "observe" | undefined, listed: boolean): number {
    if (mode !== "observe") return 0;
    return this.#polls.defer(key, this.#d.clock.now().getTime(), listed) ?? 0;
  }

  /** Records what the NSG already carries, writing nothing; looks again while the owner has writes to make. */
  #observe(
    key: string,
    o: {
      seq: number;
      nsgId: string;
      prev: NsgRecord | undefined;
      observed: ObservedNsg;
      bindings: PolicyBinding[];
      grants: Grant[];
      inputs: unknown[];
    },
  ): HandlerResult {
    const d = this.#d;
    const plan = planNsg({
      nsg: o.observed,
      bindings: o.bindings,
      grants: o.grants,
      instance: d.instanceId,
      memo: this.#memoFor(o.observed),
    });
    const rec = recordOf(o.seq, o.nsgId, observedResult(plan), {
      bindings: o.bindings,
      instance: d.instanceId,
      lastWriteAt: o.prev?.lastWriteAt,
      basis: o.observed.etag === undefined ? undefined : { etag: o.observed.etag, inputs: o.inputs },
    });
    this.#finish(key, o.prev, observedRecord(rec, o.prev, plan, o.bindings));
    const poll = this.#polls.next(key, plan.unchanged);
    const next = earliest(o.grants);
    const waits = [poll, next === undefined ? undefined : Math.max(0, next - d.clock.now().getTime())];
    const wait = Math.min(...waits.filter((x): x is number => x !== undefined));
    return Number.isFinite(wait) ? { requeueAfterMs: wait } : {};
  }

  /** Plans the observed NSG for this instance and applies the plan. */
  async #apply(
    key: string,
    observed: ObservedNsg,
    bindings: PolicyBinding[],
    grants: Grant[],
  ): Promise<ApplyResult> {
    const d = this.#d;
    const instance = d.instanceId;
    this.#noteId(key, observed.id, bindings.length);
    const memo = this.#memoFor(observed);
    const plan = planNsg({ nsg: observed, bindings, grants, instance, memo });
    const applyStart = d.clock.now().getTime();
    // A listed document may predate any write this makes, one that fails halfway included.
    const wrote = plan.unchanged ? undefined : d.prefetch.writing(key);
    let result: ApplyResult;
    try {
      result = await applyPlan(
        d.writeMode,
        d.azure,
        observed,
        plan,
        (fresh) => planNsg({ nsg: fresh, bindings, grants, instance, memo }),
        instance,
      );
    } finally {
      wrote?.();
    }
    if (bindings.length === 0 && result.plan.desired.length === 0) this.#unboundIds.delete(key);
    if (result.writes > 0) {
      this.#writeLatency.observe((d.clock.now().getTime() - applyStart) / result.writes);
    }
    return result;
  }

  #missing(key: string, nsgId: string, prev: NsgRecord | undefined, seq: number, err: Error): HandlerResult {
    const d = this.#d;
    this.#finish(key, prev, emptyRecord(seq, prev, { reason: "NsgNotFound", message: err.message }));
    if (d.bindings.policiesOf(key).length === 0) {
      // Queued only to remove this instance's rules, which went with the NSG: nothing left to do.
      this.#unboundIds.delete(key);
      return {};
    }
    d.log.warn({ nsg: nsgId, err: err.message }, "NSG not found");
    return { requeueAfterMs: MISSING_NSG_RETRY_MS };
  }

  /** The ARM id of an NSG key: a bound NSG's from its bindings, else as listed or read before. */
  #nsgId(key: string): string {
    if (this.#d.bindings.policiesOf(key).length > 0) return this.#d.bindings.nsgId(key);
    return this.#unboundIds.get(key) ?? this.#d.bindings.nsgId(key);
  }

  /** Remembers an unbound NSG's id (its rules are still to go); forgets it once the NSG is bound. */
  #noteId(key: string, id: string, bindings: number): void {
    if (bindings === 0 && this.#d.bindings.policiesOf(key).length === 0) this.#unboundIds.set(key, id);
    else this.#unboundIds.delete(key);
  }

  #report(nsgId: string, result: ApplyResult): void {
    if (result.writes === 0 && result.refused.size === 0) return;
    const log = this.#d.log.child({ nsg: nsgId });
    if (result.writes > 0) {
      const { puts, deletes } = result.plan;
      log.info(
        { puts: puts.length, deletes: deletes.length, writes: result.writes, mode: this.#d.writeMode },
        "NSG updated",
      );
    }
    for (const [name, r] of result.refused) log.warn({ rule: name, reason: r.reason }, r.message);
  }

  #unchanged(key: string, prev: NsgRecord, seq: number, grants: Grant[]): HandlerResult {
    this.#finish(key, prev, { ...prev, seq });
    const next = earliest(grants);
    return next === undefined ? {} : { requeueAfterMs: Math.max(0, next - this.#d.clock.now().getTime()) };
  }

  /** Either how long to keep waiting for a burst's undecided requests, or the grants to plan with. */
  #batch(
    key: string,
    bindings: PolicyBinding[],
    prev: NsgRecord | undefined,
  ): { waitMs: number; grants: Grant[]; lists: Grant[][] } {
    // A hold in progress is not re-examined on every wake-up (each approval of a burst wakes the NSG):
    // anything that arrives meanwhile, a removal included, is written within hold + L <= 2L.
    const since = this.#heldSince.get(key);
    if (since !== undefined) {
      const left = this.#holdLeft(since, bindings);
      if (left > 0) return { waitMs: left, grants: [], lists: [] };
      this.#heldSince.delete(key); // the hold is over: write now, whatever is still undecided
    }
    const { grants, lists } = grantsFor(bindings, this.#d.grants, this.#d.clock.now());
    const waitMs = since === undefined ? this.#hold(key, bindings, grants, prev) : 0;
    return { waitMs, grants, lists };
  }

  /** Time left of a hold that began at `since` (0 once it is over or nothing is undecided any more). */
  #holdLeft(since: number, bindings: PolicyBinding[]): number {
    const cap = Math.min(this.#d.maxHoldMs, this.#writeLatency.meanMs);
    const p = this.#pendingOf(bindings);
    return holdLeft(since + cap - this.#d.clock.now().getTime(), p.undecided, p.settleLeftMs);
  }

  #pendingOf(bindings: PolicyBinding[]): { undecided: number; settleLeftMs: number } {
    let undecided = 0;
    let settleLeftMs = 0;
    for (const p of new Set(bindings.map((b) => b.policyKey))) {
      undecided += this.#d.undecided(p);
      settleLeftMs = Math.max(settleLeftMs, this.#d.settleLeft(p));
    }
    return { undecided, settleLeftMs };
  }

  /** Milliseconds to wait for undecided requests before writing (0: reconcile now). */
  #hold(key: string, bindings: PolicyBinding[], grants: Grant[], prev: NsgRecord | undefined): number {
    const d = this.#d;
    const nowMs = d.clock.now().getTime();
    const ms = holdMs({
      ...this.#pendingOf(bindings),
      grants,
      prev,
      maxHoldMs: Math.min(d.maxHoldMs, this.#writeLatency.meanMs),
    });
    if (ms > 0) this.#heldSince.set(key, nowMs);
    return ms;
  }

  /** Store the record, report revoke lag, and wake the requests and policies whose view changed. */
  #finish(key: string, prev: NsgRecord | undefined, rec: NsgRecord): void {
    const d = this.#d;
    d.ledger.record(key, rec);
    this.#logPlacements(key, prev, rec);
    for (const k of this.#touchedRequests(key, prev, rec)) d.wakeRequest(k);
    const findingsChanged =
      prev === undefined ||
      JSON.stringify([prev.conflicts, prev.shadowed, prev.error]) !==
        JSON.stringify([rec.conflicts, rec.shadowed, rec.error]);
    for (const p of d.bindings.policiesOf(key)) {
      if (findingsChanged || d.bindings.isDeleting(p)) d.wakePolicy(p);
    }
  }

  /** At debug: which requests this NSG began or stopped carrying (a grant's path through the NSGs). */
  #logPlacements(key: string, prev: NsgRecord | undefined, rec: NsgRecord): void {
    if (!this.#d.log.isLevelEnabled("debug")) return;
    const added = [...rec.placements.keys()].filter((k) => prev?.placements.has(k) !== true);
    const removed = [...(prev?.placements.keys() ?? [])].filter((k) => !rec.placements.has(k));
    if (added.length + removed.length === 0) return;
    this.#d.log.debug({ nsg: key, seq: rec.seq, added, removed }, "NSG placements changed");
  }

  /** Requests whose placement in this NSG changed, were rejected or failed, or wait for it. */
  #touchedRequests(key: string, prev: NsgRecord | undefined, rec: NsgRecord): Set<string> {
    const d = this.#d;
    const now = d.clock.now().getTime();
    const touched = new Set<string>([
      ...rec.rejected.keys(),
      ...rec.failed.keys(),
      ...d.ledger.takeWaiters(key),
    ]);
    for (const [k, placement] of rec.placements) {
      // Newly placed, or placed for a later grant of the same request (approved again).
      if (prev?.placements.get(k)?.expiresAt !== placement.expiresAt) touched.add(k);
    }
    for (const k of prev?.placements.keys() ?? []) {
      if (rec.placements.has(k)) continue;
      touched.add(k);
      const expiresAt = Date.parse(d.getRequest(k)?.status?.expiresAt ?? "");
      if (!Number.isNaN(expiresAt) && expiresAt <= now)
        d.metrics?.revokeLag.observe((now - expiresAt) / 1000);
    }
    return touched;
  }
}

/** What the NSG carries after an apply; `basis` is kept only when the NSG was found converged. */
function recordOf(
  seq: number,
  nsgId: string,
  result: ApplyResult,
  o: {
    bindings: PolicyBinding[];
    instance: string;
    lastWriteAt: number | undefined;
    basis: NsgRecord["basis"];
  },
): NsgRecord {
  return {
    seq,
    ...placementsOf(nsgId, result),
    rejected: new Map(
      result.plan.rejected.map((r) => [r.grant.requestKey, { reason: r.reason, message: r.message }]),
    ),
    failed: failuresOf(result),
    refusedRules: refusedByPolicy(result, o.bindings, o.instance),
    conflicts: result.plan.conflicts,
    shadowed: result.plan.shadowed,
    error: undefined,
    lastWriteAt: o.lastWriteAt,
    policiesWithRules: policiesWithRules(result.plan, o.bindings, o.instance),
    basis: result.writes === 0 && result.refused.size === 0 ? o.basis : undefined,
  };
}

function emptyRecord(seq: number, prev: NsgRecord | undefined, error: Reason): NsgRecord {
  return {
    seq,
    placements: new Map(),
    rejected: new Map(),
    failed: new Map(),
    conflicts: [],
    shadowed: [],
    error,
    lastWriteAt: prev?.lastWriteAt,
    policiesWithRules: new Set(),
  };
}

function basisOf(observed: ObservedNsg, inputs: unknown[]): NsgRecord["basis"] {
  return observed.etag === undefined ? undefined : { etag: observed.etag, inputs };
}

/** Reconcile again when the first of the grants expires. */
function requeueAtExpiry(grants: Grant[], nowMs: number): HandlerResult {
  const next = earliest(grants);
  return next === undefined ? {} : { requeueAfterMs: Math.max(0, next - nowMs) };
}

function earliest(grants: Grant[]): number | undefined {
  let min: number | undefined;
  for (const g of grants) {
    const t = g.expiresAt.getTime();
    if (min === undefined || t < min) min = t;
  }
  return min;
}
