// The Reconciling and Stalled conditions of the kstatus conventions (sigs.k8s.io/cli-utils
// kstatus, which Flux and kubectl-wait-style tools compute health from), derived from the status
// the operator already decided. kstatus reads: observedGeneration behind the generation ->
// InProgress; Reconciling=True -> InProgress; Stalled=True -> Failed; else Ready=True -> Current.
// At most one of the two is ever True. Stalled means "needs a person": retrying will not help.
import type { AccessRequestStatus, Condition, JitPolicyStatus } from "../api/types.ts";
import { setCondition } from "./conditions.ts";

/** Ready=False reasons of a JitPolicy that only a change (of spec, scope or NSG) can clear. */
const POLICY_STALLED = new Set([
  "InvalidSpec",
  "OutOfScope",
  "TargetsUnresolved",
  "PriorityConflict",
  "RuleRefused",
]);

interface Pair {
  reconciling?: { reason: string; message: string };
  stalled?: { reason: string; message: string };
}

function apply(
  conditions: Condition[] | undefined,
  p: Pair,
  now: Date,
  gen: number | undefined,
): Condition[] {
  let c = setCondition(
    conditions,
    p.reconciling === undefined
      ? { type: "Reconciling", status: "False", reason: "Reconciled", message: "nothing in progress" }
      : { type: "Reconciling", status: "True", ...p.reconciling },
    now,
    gen,
  );
  c = setCondition(
    c,
    p.stalled === undefined
      ? { type: "Stalled", status: "False", reason: "NotStalled", message: "no problem that needs a change" }
      : { type: "Stalled", status: "True", ...p.stalled },
    now,
    gen,
  );
  return c;
}

export function withPolicyKstatus(
  status: JitPolicyStatus,
  now: Date,
  gen: number | undefined,
): JitPolicyStatus {
  const ready = status.conditions?.find((c) => c.type === "Ready");
  const p: Pair = {};
  if (ready === undefined || ready.status !== "True") {
    const why = { reason: ready?.reason ?? "Reconciling", message: ready?.message ?? "not reconciled yet" };
    if (POLICY_STALLED.has(why.reason)) p.stalled = why;
    else p.reconciling = why;
  }
  return { ...status, conditions: apply(status.conditions, p, now, gen) };
}

const STALLED_PHASES: ReadonlySet<string> = new Set(["Denied", "Failed", "TimedOut"]);

export function withRequestKstatus(
  status: AccessRequestStatus,
  now: Date,
  gen: number | undefined,
): AccessRequestStatus {
  const why = { reason: status.reason ?? status.phase ?? "Pending", message: status.message ?? "" };
  const p: Pair = {};
  // Expired, Revoked and Superseded (a renewal carries the grant on) are ends a request is meant to
  // reach: Current, like Active. TimedOut (nobody approved in time) needs a person, like Denied.
  if (status.phase === undefined || status.phase === "Pending") p.reconciling = why;
  else if (STALLED_PHASES.has(status.phase)) p.stalled = why;
  return { ...status, conditions: apply(status.conditions, p, now, gen) };
}
