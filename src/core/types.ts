// Data the pure core exchanges with the reconcilers. Everything here is plain data: no I/O, no clock.
import type { PolicyPort, PriorityRange, Protocol } from "../api/types.ts";
import type { ObservedNsg, SecurityRule } from "./nsg.ts";
import type { PlanMemo } from "./plan-memo.ts";

/** One broken rule of the API contract: machine reason, the field at fault, a sentence naming the limit. */
export interface Issue {
  reason: string;
  /** JSON path of the offending field, e.g. "spec.ports[1].maxDuration". */
  field: string;
  message: string;
}

/** The outcome of checking a request against its policy; a denial carries its first issue inline. */
export type Verdict =
  { allowed: true } | { allowed: false; reason: string; field: string; message: string; issues: Issue[] };

/** One active permission: a request's source may reach one target on one port until expiresAt. */
export interface Grant {
  /** "namespace/name" of the AccessRequest. */
  requestKey: string;
  /** "namespace/name" of the JitPolicy. */
  policyKey: string;
  /** The virtualMachineId or networkSecurityGroupId as written in the policy. */
  targetId: string;
  port: number;
  protocol: Protocol;
  /** Canonical CIDR text (see normalizePrefix) or the exact wildcard the policy lists. */
  sourcePrefix: string;
  expiresAt: Date;
}

export interface ActiveGrants {
  grants: Grant[];
  /** The earliest expiresAt among the grants: when the scheduler must next wake. */
  nextExpiry: Date | undefined;
}

/** A policy target as it lands in one NSG: what the policy protects there and with which band. */
export interface PolicyBinding {
  policyKey: string;
  targetId: string;
  /** VM private IPs or the NSG target's declared prefixes. */
  destinationPrefixes: string[];
  ports: PolicyPort[];
  priorityRange: PriorityRange;
}

export interface PlanInput {
  nsg: ObservedNsg;
  bindings: PolicyBinding[];
  /** Active grants; those whose (policyKey, targetId) has no binding here are ignored. */
  grants: Grant[];
  /**
   * The operator instance planning (default "": the default instance). Only rules named with its
   * prefix (instanceRulePrefix) are its own: every other rule, another instance's included, is
   * foreign to the plan. An invalid id throws.
   */
  instance?: string;
  /**
   * The planner's memo (newPlanMemo), kept by whoever plans again and again with the same binding
   * objects: text derived from each binding is then derived once, not once per plan. Any plan is
   * the same with or without it.
   */
  memo?: PlanMemo;
}

/**
 * Why a policy writes nothing new to this NSG: a foreign Inbound rule inside its band (`ruleName`,
 * `priority`), or another policy bound to the NSG whose band overlaps its own (`otherPolicyKey`;
 * `ruleName` is then "" and `priority` the lowest priority of the overlap).
 */
export interface PriorityConflict {
  policyKey: string;
  ruleName: string;
  priority: number;
  message: string;
  /** Set for a band overlap: the other policy, which is frozen in this NSG too. */
  otherPolicyKey?: string;
}

/** A foreign Inbound Allow that takes precedence over a baseline deny for a managed port. */
export interface ShadowedBaseline {
  policyKey: string;
  targetId: string;
  ruleName: string;
  priority: number;
  port: number;
  protocol: Protocol;
  message: string;
}

export type RejectionReason = "CapacityExceeded" | "PriorityConflict";

/** A grant that could not be written; the request is Denied with this reason and message. */
export interface RejectedGrant {
  grant: Grant;
  reason: RejectionReason;
  message: string;
}

/** Which desired rule carries a grant (for AccessRequest status.rules). */
export interface GrantPlacement {
  grant: Grant;
  ruleName: string;
  priority: number;
}

export interface NsgPlan {
  /** The managed rules this NSG must hold, by priority. */
  desired: SecurityRule[];
  /** Managed rules to create or replace (deny rules first). No two share a priority with any observed rule
   * other than themselves, so puts and deletes may be applied in any order. */
  puts: SecurityRule[];
  /** Names of managed rules to delete (allow rules first). */
  deletes: string[];
  /** Every custom rule for the `nsg` write mode: foreign rules untouched, then the desired managed rules. */
  nsgBody: SecurityRule[];
  conflicts: PriorityConflict[];
  shadowed: ShadowedBaseline[];
  rejected: RejectedGrant[];
  placements: GrantPlacement[];
  /** True when puts and deletes are both empty. */
  unchanged: boolean;
}
