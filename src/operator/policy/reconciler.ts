// The JitPolicy reconciler (key "namespace/name"): finalizer, target resolution through the Azure
// port, status conditions from the NSG ledger, and on delete: hold the finalizer until every NSG the
// policy was bound to has been reconciled without its rules.
import type { JitPolicy } from "../../api/types.ts";
import { FINALIZER } from "../../api/types.ts";
import type { AzurePort } from "../../azure/port.ts";
import { validatePolicySpec } from "../../core/index.ts";
import { signTargets } from "../../core/approval-signature.ts";
import type { SigningKey } from "../../core/approval-signature.ts";
import { ClearanceWait } from "../state/clearance.ts";
import type { BindingIndex } from "../state/bindings.ts";
import type { Caches } from "../state/caches.ts";
import { deepEqual } from "../../kube/conditions.ts";
import { isNotFound } from "../../kube/kube.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { KubeWriter } from "../../kube/kube.ts";
import type { Ledger } from "../state/ledger.ts";
import { decidePolicy } from "./decision.ts";
import { withPolicyKstatus } from "../../kube/kstatus-conditions.ts";
import { resolveTargets } from "./targets.ts";
import type { Resolution } from "./targets.ts";
import type { ScopeGate } from "../scope/gate.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { HandlerResult } from "../../runtime/queue.ts";

export interface PolicyReconcilerDeps {
  caches: Caches;
  bindings: BindingIndex;
  /** Which targets the namespace's JitScopes cover; only those are resolved and bound. */
  gate: ScopeGate;
  ledger: Ledger;
  azure: AzurePort;
  kube: KubeWriter;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  wakeNsg(nsgKey: string): void;
  /** The operator's signing key: the resolution written to status.targets is signed with it. */
  signing: SigningKey;
}

export class PolicyReconciler {
  readonly #d: PolicyReconcilerDeps;
  readonly #clearance: ClearanceWait;

  constructor(deps: PolicyReconcilerDeps) {
    this.#d = deps;
    this.#clearance = new ClearanceWait(deps.ledger);
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const d = this.#d;
    const policy = d.caches.policy(key);
    if (policy === undefined) {
      this.#clearance.forget(key);
      return {};
    }
    const log = d.log.child({ policy: key });
    try {
      if (policy.metadata.deletionTimestamp !== undefined) {
        await this.#finalize(key, policy, log);
        return {};
      }
      this.#clearance.forget(key);
      const meta = policy.metadata;
      if (!(meta.finalizers ?? []).includes(FINALIZER)) {
        await d.kube.setFinalizers("JitPolicy", meta, [...(meta.finalizers ?? []), FINALIZER]);
      }
      await this.#updateStatus(key, policy, log);
    } catch (err) {
      if (isNotFound(err)) return {};
      throw err;
    }
    return {};
  }

  async #updateStatus(key: string, policy: JitPolicy, log: Logger): Promise<void> {
    const d = this.#d;
    const issues = validatePolicySpec(policy.spec);
    // A target outside every scope is not even read from ARM: the policy says why, nothing else.
    const scope = d.gate.verdict(policy);
    const resolution: Resolution = await resolveTargets(d.gate.view(policy), d.azure);
    const records = d.bindings.nsgsOf(key).map((nsgKey) => ({
      nsgKey,
      nsgId: d.bindings.nsgId(nsgKey),
      record: d.ledger.get(nsgKey),
    }));
    const decision = decidePolicy({
      policy,
      policyKey: key,
      now: d.clock.now(),
      resolution,
      outOfScope: scope.outOfScope.map((t) => ({ id: t.targetId, message: t.message })),
      records,
      specIssues: issues.map((i) => `${i.reason}: ${i.message}`),
      signTargets: (targets) => signTargets(d.signing.key, policy.metadata.uid ?? "", targets),
    });
    // kstatus conventions (Reconciling/Stalled) for GitOps tools, derived from the decided status.
    decision.status = withPolicyKstatus(decision.status, d.clock.now(), policy.metadata.generation);
    if (!deepEqual(decision.status, policy.status ?? {})) {
      await d.kube.patchStatus("JitPolicy", policy.metadata, decision.status);
      log.debug(
        { conditions: decision.status.conditions?.map((c) => `${c.type}=${c.status}`) },
        "status updated",
      );
    }
    for (const e of decision.events) {
      log.info({ reason: e.reason }, e.message);
      d.events.record("JitPolicy", policy.metadata, e);
    }
  }

  /** Deleting: the binding index already leaves the policy out of every plan; wait until each NSG shows it. */
  async #finalize(key: string, policy: JitPolicy, log: Logger): Promise<void> {
    const d = this.#d;
    const meta = policy.metadata;
    if (!(meta.finalizers ?? []).includes(FINALIZER)) return;
    const nsgs = d.bindings.nsgsOf(key);
    const pending = this.#clearance.pending(key, nsgs, (rec) => rec.policiesWithRules.has(key));
    if (pending.length > 0) {
      for (const nsg of pending) d.wakeNsg(nsg);
      return;
    }
    await d.kube
      .event("JitPolicy", meta, {
        type: "Normal",
        reason: "RulesRemoved",
        message: `managed rules removed from ${nsgs.length} NSG(s)`,
      })
      .catch(() => undefined);
    await d.kube.setFinalizers(
      "JitPolicy",
      meta,
      (meta.finalizers ?? []).filter((f) => f !== FINALIZER),
    );
    log.info({ nsgs: nsgs.length }, "managed rules removed; finalizer released");
  }
}
