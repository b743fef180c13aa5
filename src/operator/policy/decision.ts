// JitPolicy status as a pure function of its resolution and of what the NSG reconciler recorded for
// the NSGs it is bound to.
import type { Condition, JitPolicy, JitPolicyStatus } from "../../api/types.ts";
import { findCondition, setCondition } from "../../kube/conditions.ts";
import type { RecordedEvent } from "../../kube/events.ts";
import type { Resolution } from "./targets.ts";
import type { NsgRecord } from "../state/ledger.ts";

export interface PolicyFacts {
  policy: JitPolicy;
  policyKey: string;
  now: Date;
  resolution: Resolution;
  /** Targets no JitScope bound to the namespace covers (never resolved, bound or written). */
  outOfScope: Array<{ id: string; message: string }>;
  /** The policy's NSGs (by key) with the latest record of each (undefined: not reconciled yet). */
  records: Array<{ nsgKey: string; nsgId: string; record: NsgRecord | undefined }>;
  /** What the core's validation finds wrong with the spec ("<reason>: <message>"); no grant is opened then. */
  specIssues: string[];
  /** The operator's signature over the resolved targets written (status.targetsSignature, ADR 0012). */
  signTargets?(targets: NonNullable<JitPolicyStatus["targets"]>): string;
}

export interface PolicyDecision {
  status: JitPolicyStatus;
  events: RecordedEvent[];
}

function conflictsOf(f: PolicyFacts): string[] {
  const out: string[] = [];
  for (const { record } of f.records) {
    for (const c of record?.conflicts ?? []) if (c.policyKey === f.policyKey) out.push(c.message);
  }
  return out;
}

function shadowedOf(f: PolicyFacts): string[] {
  const out: string[] = [];
  for (const { record } of f.records) {
    for (const s of record?.shadowed ?? []) if (s.policyKey === f.policyKey) out.push(s.message);
  }
  return out;
}

function readiness(f: PolicyFacts, conflicts: string[]): { ok: boolean; reason: string; message: string } {
  if (f.specIssues.length > 0) return { ok: false, reason: "InvalidSpec", message: f.specIssues.join("; ") };
  if (f.outOfScope.length > 0) {
    return { ok: false, reason: "OutOfScope", message: f.outOfScope.map((t) => t.message).join("; ") };
  }
  if (f.resolution.problems.length > 0) {
    return { ok: false, reason: "TargetsUnresolved", message: f.resolution.problems.join("; ") };
  }
  if (conflicts.length > 0) return { ok: false, reason: "PriorityConflict", message: conflicts.join("; ") };
  const errors = f.records.filter((r) => r.record?.error !== undefined);
  if (errors.length > 0) {
    const message = errors.map((r) => `${r.nsgId}: ${r.record?.error?.message ?? ""}`).join("; ");
    return { ok: false, reason: "NsgError", message };
  }
  const refused = f.records.flatMap((r) => {
    const why = r.record?.refusedRules?.get(f.policyKey);
    return why === undefined ? [] : [`${r.nsgId}: Azure refused ${why.message} (${why.reason})`];
  });
  if (refused.length > 0) return { ok: false, reason: "RuleRefused", message: refused.join("; ") };
  const pending = f.records.filter((r) => r.record === undefined).length;
  if (pending > 0)
    return { ok: false, reason: "Reconciling", message: `${pending} NSG(s) not reconciled yet` };
  return { ok: true, reason: "Reconciled", message: `${f.records.length} NSG(s) carry the baseline` };
}

function clip(text: string): string {
  return text.length <= 1000 ? text : `${text.slice(0, 997)}...`;
}

export function decidePolicy(f: PolicyFacts): PolicyDecision {
  const gen = f.policy.metadata.generation;
  const old = f.policy.status?.conditions;
  const conflicts = conflictsOf(f);
  const shadowed = shadowedOf(f);
  const ready = readiness(f, conflicts);
  let c: Condition[] = setCondition(old, targetsResolved(f), f.now, gen);
  c = setCondition(
    c,
    conflicts.length > 0
      ? {
          type: "PriorityConflict",
          status: "True",
          reason: "ForeignRuleInBand",
          message: clip(conflicts.join("; ")),
        }
      : {
          type: "PriorityConflict",
          status: "False",
          reason: "NoConflict",
          message: "no foreign rule in the band",
        },
    f.now,
    gen,
  );
  c = setCondition(
    c,
    shadowed.length > 0
      ? {
          type: "BaselineShadowed",
          status: "True",
          reason: "ForeignAllow",
          message: clip(shadowed.join("; ")),
        }
      : {
          type: "BaselineShadowed",
          status: "False",
          reason: "NotShadowed",
          message: "no foreign allow precedes the baseline",
        },
    f.now,
    gen,
  );
  c = setCondition(
    c,
    {
      type: "Ready",
      status: ready.ok ? "True" : "False",
      reason: ready.reason,
      message: clip(ready.message),
    },
    f.now,
    gen,
  );
  const targets = statusTargets(f) ?? [];
  return {
    status: {
      observedGeneration: gen,
      conditions: c,
      targets,
      // Only a signed resolution binds a VM target to NSGs: status writers cannot aim rules elsewhere.
      ...(f.signTargets === undefined ? {} : { targetsSignature: f.signTargets(targets) }),
    },
    events: transitionEvents(old, c),
  };
}

type ConditionInput = Omit<Condition, "lastTransitionTime" | "observedGeneration">;

/** OutOfScope first: a target outside the namespace's scopes is refused before anything is resolved. */
function targetsResolved(f: PolicyFacts): ConditionInput {
  if (f.outOfScope.length > 0) {
    const message = clip(f.outOfScope.map((t) => t.message).join("; "));
    return { type: "TargetsResolved", status: "False", reason: "OutOfScope", message };
  }
  if (f.resolution.problems.length > 0) {
    const message = clip(f.resolution.problems.join("; "));
    return { type: "TargetsResolved", status: "False", reason: "ResolutionFailed", message };
  }
  return { type: "TargetsResolved", status: "True", reason: "Resolved", message: "every target resolved" };
}

/** Resolved targets, then each out-of-scope one with why (in spec order is not needed: ids name them). */
function statusTargets(f: PolicyFacts): JitPolicyStatus["targets"] {
  const out = [...f.resolution.targets];
  for (const t of f.outOfScope) out.push({ id: t.id, message: clip(t.message) });
  return out;
}

/** One Event per condition that changed: Warnings for problems, Normal for recoveries and Ready. */
function transitionEvents(old: Condition[] | undefined, next: Condition[]): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (const type of ["TargetsResolved", "PriorityConflict", "BaselineShadowed", "Ready"]) {
    const before = findCondition(old, type);
    const after = findCondition(next, type);
    if (after === undefined || (before?.status === after.status && before.reason === after.reason)) continue;
    const inverted = type === "PriorityConflict" || type === "BaselineShadowed";
    const bad = inverted === (after.status === "True");
    if (!bad && before === undefined && type !== "Ready") continue;
    events.push({ type: bad ? "Warning" : "Normal", reason: after.reason, message: after.message });
  }
  return events;
}
