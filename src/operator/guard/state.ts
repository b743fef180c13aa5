// The operator's view of its admission guard: the latest verdict of decideGuard (guard.ts) over
// the namespaces it serves, refreshed at start and on every resync. The request reconciler asks
// isGuarded(namespace) before opening a grant; a "no" is shaped as a condition reason + message so
// it can go straight onto the AccessRequest and into an Event.
import type { KubeConfig } from "@kubernetes/client-node";
import { ALLOW_UNGUARDED_FLAG, decideGuard } from "./guard.ts";
import type { GuardBinding, GuardNamespace, GuardPolicy, GuardTarget, NamespaceVerdict } from "./guard.ts";
import { kubeErrorSummary, readGuardObjects } from "./reader.ts";
import type { GuardRead, GuardReaderOptions, KubeErrorSummary } from "./reader.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { Metrics } from "../../runtime/metrics.ts";

/** Condition reasons of a namespace the operator will not open grants in. */
export type GuardConditionReason =
  /** The labelled policy or binding is missing, or does not cover the namespace. */
  | "AdmissionGuardMissing"
  /** The operator may not read policies or bindings, or the API server does not serve them. */
  | "AdmissionGuardUnreadable"
  /** Not verified yet: no read has succeeded since the operator started. */
  | "AdmissionGuardUnchecked";

export type GuardStatus = { ok: true } | { ok: false; reason: GuardConditionReason; message: string };

export interface AdmissionGuardOptions {
  /** Reads the labelled policies and bindings (readGuardObjects bound to the operator's KubeConfig). */
  read: () => Promise<GuardRead>;
  log: Logger;
  /** Sets drawbridge_admission_guard_unguarded_namespaces when given. */
  metrics?: Pick<Metrics, "admissionGuardUnguarded">;
  /** Config.allowUnguardedNamespaces (--allow-unguarded-namespaces): treat every namespace as guarded. */
  allowUnguarded: boolean;
  /** What this guard protects (default: the requester policy on accessrequests). */
  target?: GuardTarget;
  /** What a "no" means, prefixed to its message (default: no grant opens in the namespace). */
  consequence?: string;
}

type State =
  | { kind: "unchecked"; lastError: string | undefined }
  | { kind: "unreadable"; message: string }
  | {
      kind: "read";
      policies: readonly GuardPolicy[];
      bindings: readonly GuardBinding[];
      verdicts: ReadonlyMap<string, NamespaceVerdict>;
    };

const PREFIX = "no grant opens in this namespace until the requester admission policy guards it";

export class AdmissionGuard {
  readonly #o: AdmissionGuardOptions;
  #state: State = { kind: "unchecked", lastError: undefined };
  /** Per namespace: "" when guarded, else why not; what state-change log lines compare. */
  #last = new Map<string, string>();
  #unguarded = 0;
  #warnedOptOut = false;

  constructor(opts: AdmissionGuardOptions) {
    this.#o = opts;
  }

  /** An AdmissionGuard reading with the operator's KubeConfig. */
  static forKubeConfig(
    kc: KubeConfig,
    opts: Omit<AdmissionGuardOptions, "read"> & { reader?: GuardReaderOptions },
  ): AdmissionGuard {
    const reader = {
      ...(opts.target === undefined ? {} : { labelSelector: opts.target.labelSelector }),
      ...opts.reader,
    };
    return new AdmissionGuard({ ...opts, read: () => readGuardObjects(kc, reader) });
  }

  /**
   * Reads the guard objects and decides every namespace in `namespaces` (the ones the operator
   * serves, with their labels). Never rejects: a read that fails for a passing reason keeps the last
   * verdict and is logged.
   */
  async refresh(namespaces: readonly GuardNamespace[]): Promise<void> {
    const read = await this.#read();
    this.#state = this.#next(read, namespaces);
    const current = this.#summarize(namespaces);
    this.#unguarded = [...current.values()].filter((m) => m !== "").length;
    this.#o.metrics?.admissionGuardUnguarded.set(this.#unguarded);
    this.#warnOptOutOnce();
    this.#logChanges(current);
  }

  /** Whether grants may open in `namespace`; a "no" is a ready-made condition reason and message. */
  isGuarded(namespace: string): GuardStatus {
    if (this.#o.allowUnguarded) return { ok: true };
    const status = this.#status(namespace);
    return status.ok ? status : { ...status, message: `${this.#o.consequence ?? PREFIX}: ${status.message}` };
  }

  /** How many of the namespaces of the last refresh are unguarded (whatever allowUnguarded says). */
  get unguardedCount(): number {
    return this.#unguarded;
  }

  /** The verdict on `namespace`, opt-out aside and without PREFIX: what the metric and logs report. */
  #status(namespace: string): GuardStatus {
    const s = this.#state;
    switch (s.kind) {
      case "unchecked":
        return {
          ok: false,
          reason: "AdmissionGuardUnchecked",
          message:
            `the operator has not verified the requester admission policy yet` +
            (s.lastError === undefined ? "" : ` (${s.lastError})`) +
            `; it checks again at the next resync`,
        };
      case "unreadable":
        return { ok: false, reason: "AdmissionGuardUnreadable", message: s.message };
      case "read": {
        const v = s.verdicts.get(namespace) ?? this.#decideUnlisted(s, namespace);
        return v.guarded ? { ok: true } : { ok: false, reason: "AdmissionGuardMissing", message: v.message };
      }
    }
  }

  async #read(): Promise<GuardRead> {
    try {
      return await this.#o.read();
    } catch (err) {
      const error = kubeErrorSummary(err);
      return {
        ok: false,
        kind: "failed",
        error,
        message: `could not read the admission guard: ${error.message}`,
      };
    }
  }

  #next(read: GuardRead, namespaces: readonly GuardNamespace[]): State {
    if (read.ok) return decided(read.policies, read.bindings, namespaces, this.#o.target);
    if (read.kind !== "failed") return { kind: "unreadable", message: read.message };
    this.#logReadError(read.error, read.message);
    const s = this.#state;
    // A passing failure: keep what was last read, re-deciding it for today's namespaces.
    if (s.kind === "read") return decided(s.policies, s.bindings, namespaces, this.#o.target);
    if (s.kind === "unreadable") return s;
    return { kind: "unchecked", lastError: read.message };
  }

  /** A namespace the last refresh did not list: its labels are unknown, so only unscoped bindings count. */
  #decideUnlisted(s: Extract<State, { kind: "read" }>, namespace: string): NamespaceVerdict {
    const v = decideGuard({
      policies: s.policies,
      bindings: s.bindings,
      namespaces: [{ name: namespace, labels: undefined }],
      ...(this.#o.target === undefined ? {} : { target: this.#o.target }),
    }).namespaces[0];
    return v ?? { namespace, guarded: false, check: "policyExists", message: "not decided" };
  }

  #summarize(namespaces: readonly GuardNamespace[]): Map<string, string> {
    const out = new Map<string, string>();
    for (const ns of namespaces) {
      const status = this.#status(ns.name);
      out.set(ns.name, status.ok ? "" : status.message);
    }
    return out;
  }

  #warnOptOutOnce(): void {
    if (!this.#o.allowUnguarded || this.#warnedOptOut) return;
    this.#warnedOptOut = true;
    this.#o.log.warn(
      { unguarded: this.#unguarded },
      `${ALLOW_UNGUARDED_FLAG} is set: grants open even in namespaces the requester admission policy ` +
        `does not guard, where a requester can forge spec.requester or revoke someone else's request`,
    );
  }

  #logChanges(current: Map<string, string>): void {
    const changed: Record<string, string> = {};
    for (const [ns, message] of current) {
      if (this.#last.get(ns) !== message) changed[ns] = message === "" ? "guarded" : message;
    }
    this.#last = current;
    if (Object.keys(changed).length === 0) return;
    const fields = { namespaces: current.size, unguarded: this.#unguarded, changed };
    if (this.#unguarded === 0) {
      this.#o.log.info(fields, "admission guard: every served namespace is guarded");
    } else {
      this.#o.log.warn(
        fields,
        `admission guard: ${this.#unguarded} of ${current.size} served namespaces are not guarded` +
          (this.#o.allowUnguarded
            ? ` (grants open there anyway: ${ALLOW_UNGUARDED_FLAG})`
            : "; no grants open there"),
      );
    }
  }

  #logReadError(e: KubeErrorSummary, message: string): void {
    this.#o.log.warn(
      { code: e.code, reason: e.reason, error: e.message },
      `admission guard: ${message}; keeping the last verdict until the next resync`,
    );
  }
}

function decided(
  policies: readonly GuardPolicy[],
  bindings: readonly GuardBinding[],
  namespaces: readonly GuardNamespace[],
  target: GuardTarget | undefined,
): State {
  const verdict = decideGuard({
    policies,
    bindings,
    namespaces,
    ...(target === undefined ? {} : { target }),
  });
  const verdicts = new Map(verdict.namespaces.map((v) => [v.namespace, v]));
  return { kind: "read", policies, bindings, verdicts };
}
