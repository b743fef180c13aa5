// The binding index: which policy targets land in which NSG. It is derived from the JitPolicy cache
// alone (spec for ports and band, status.targets for the resolved NSGs and IPs), so after a restart
// it is complete as soon as the informer has synced, before any ARM call. status.targets counts only
// when its signature (the operator's HMAC over the policy uid and the targets) verifies: a resolution
// written by anyone else cannot aim a write at another NSG (ADR 0012). In its place the index keeps
// the policy's last verified VM bindings (so a forgery causes no write at all), or, with none yet
// (a restart onto a forged status), none: only this policy's own VM bindings are ever withheld. The
// policy reconciler re-resolves through ARM and writes a signed resolution (on the status change
// itself, at start and every resync).
//
// A policy whose spec core validation refuses (admission cannot check everything: a band too small
// for its ports, for one) binds what it bound when last valid, narrowed to the targets its scopes
// still cover, and nothing if it never was valid here: an edit the operator refuses changes no NSG,
// and a refused policy is never a reason to write. What it bound lives only in this process: after a
// restart a refused policy binds nothing, and its rules go as a deleted policy's do.
import type { JitPolicy, PolicyTarget, ResolvedTargetStatus } from "../../api/types.ts";
import { effectivePolicySpec } from "../../core/validate-policy.ts";
import type { PolicyBinding } from "../../core/types.ts";
import { objectKey } from "../../core/keys.ts";
import { nsgKey } from "./keys.ts";

export interface NsgBinding {
  /** The NSG id as ARM spelled it (for port calls); keys use nsgKey(). */
  nsgId: string;
  binding: PolicyBinding;
}

export function targetIdOf(target: PolicyTarget): string | undefined {
  return target.virtualMachineId ?? target.networkSecurityGroupId;
}

function resolvedFor(
  resolved: readonly ResolvedTargetStatus[] | undefined,
  id: string,
): ResolvedTargetStatus | undefined {
  const key = id.toLowerCase();
  return resolved?.find((r) => r.id.toLowerCase() === key);
}

/** A VM target's bindings: from a verified resolution, else from what the index held, else none. */
function vmBindings(
  policy: JitPolicy,
  base: Omit<PolicyBinding, "destinationPrefixes">,
  trustResolution: boolean,
  previous: readonly NsgBinding[],
): NsgBinding[] {
  const out: NsgBinding[] = [];
  if (!trustResolution) {
    const id = base.targetId.toLowerCase();
    for (const b of previous) {
      if (b.binding.targetId.toLowerCase() !== id) continue;
      out.push({
        nsgId: b.nsgId,
        binding: { ...base, destinationPrefixes: [...b.binding.destinationPrefixes] },
      });
    }
    return out;
  }
  const r = resolvedFor(policy.status?.targets, base.targetId);
  const ips = r?.privateIpAddresses ?? [];
  if (ips.length === 0) return out;
  for (const nsgId of r?.networkSecurityGroupIds ?? []) {
    out.push({ nsgId, binding: { ...base, destinationPrefixes: [...ips] } });
  }
  return out;
}

/**
 * Every (NSG, binding) of one policy, from its spec and the resolution recorded in its status. VM
 * targets take status.targets only when `trustResolution` (its signature verifies); otherwise they
 * keep what `previous` (the index's last bindings of this policy) held for them, re-banded from the
 * current spec, or bind nothing.
 */
export function policyBindings(
  policy: JitPolicy,
  trustResolution: boolean,
  previous: readonly NsgBinding[] = [],
): NsgBinding[] {
  const policyKey = objectKey(policy.metadata);
  const spec = effectivePolicySpec(policy.spec);
  const ports = spec.ports;
  const out: NsgBinding[] = [];
  for (const target of spec.targets) {
    const targetId = targetIdOf(target);
    if (targetId === undefined) continue;
    const base = { policyKey, targetId, ports, priorityRange: spec.priorityRange };
    if (target.networkSecurityGroupId !== undefined) {
      const prefixes = target.destinationAddressPrefixes ?? [];
      if (prefixes.length === 0) continue; // required by the schema; never open towards "*"
      out.push({ nsgId: target.networkSecurityGroupId, binding: { ...base, destinationPrefixes: prefixes } });
      continue;
    }
    out.push(...vmBindings(policy, base, trustResolution, previous));
  }
  return out;
}

/** A refused spec keeps the bindings it had, only of targets its (scoped) view still names. */
function lastValidBindings(view: JitPolicy, previous: readonly NsgBinding[]): NsgBinding[] {
  const targets: unknown = (view.spec as { targets?: unknown } | undefined)?.targets;
  if (!Array.isArray(targets) || previous.length === 0) return [];
  const named = new Set<string>();
  for (const t of targets as PolicyTarget[]) {
    // The schema makes each entry an object; a refused spec is still checked, not trusted.
    const id = typeof t === "object" ? targetIdOf(t) : undefined;
    if (typeof id === "string") named.add(id.toLowerCase());
  }
  return previous.filter((b) => named.has(b.binding.targetId.toLowerCase()));
}

interface PolicyEntry {
  bindings: NsgBinding[];
  deleting: boolean;
}

export class BindingIndex {
  readonly #verify: (policy: JitPolicy) => boolean;
  #policies = new Map<string, PolicyEntry>();
  #byNsg = new Map<string, Map<string, NsgBinding[]>>();
  #ids = new Map<string, string>();

  /** `verifyResolution`: whether a policy's status.targets carries the operator's signature. */
  constructor(verifyResolution: (policy: JitPolicy) => boolean) {
    this.#verify = verifyResolution;
  }

  /** Policies whose VM bindings are withheld now (unsigned or forged status.targets). */
  withheld(policy: JitPolicy): boolean {
    return !this.#verify(policy);
  }

  /**
   * Re-index one policy (as its scopes let the operator see it); returns the NSG keys whose bindings
   * changed (old and new). `specValid`: whether the policy's own spec passes core validation.
   */
  upsert(policy: JitPolicy, specValid: boolean): string[] {
    const key = objectKey(policy.metadata);
    const before = this.#policies.get(key);
    const bindings = specValid
      ? policyBindings(policy, this.#verify(policy), before?.bindings ?? [])
      : lastValidBindings(policy, before?.bindings ?? []);
    const entry: PolicyEntry = {
      bindings,
      deleting: policy.metadata.deletionTimestamp !== undefined,
    };
    const touched = this.#unindex(key);
    this.#policies.set(key, entry);
    for (const b of entry.bindings) {
      const k = nsgKey(b.nsgId);
      this.#ids.set(k, b.nsgId);
      let perPolicy = this.#byNsg.get(k);
      if (perPolicy === undefined) {
        perPolicy = new Map<string, NsgBinding[]>();
        this.#byNsg.set(k, perPolicy);
      }
      const list = perPolicy.get(key) ?? [];
      list.push(b);
      perPolicy.set(key, list);
      touched.add(k);
    }
    if (before !== undefined && sameEntry(before, entry)) return [];
    return [...touched];
  }

  /** Forget a policy (its object is gone); returns the NSG keys it was bound to. */
  remove(policyKey: string): string[] {
    const touched = this.#unindex(policyKey);
    this.#policies.delete(policyKey);
    return [...touched];
  }

  /** Bindings to plan for an NSG: those of policies being deleted are left out so their rules go. */
  bindingsFor(key: string): PolicyBinding[] {
    const out: PolicyBinding[] = [];
    for (const [policyKey, list] of this.#byNsg.get(key) ?? []) {
      if (this.#policies.get(policyKey)?.deleting === true) continue;
      for (const b of list) out.push(b.binding);
    }
    return out;
  }

  /** Policy keys bound to an NSG, deleting ones included. */
  policiesOf(key: string): string[] {
    return [...(this.#byNsg.get(key)?.keys() ?? [])];
  }

  /** NSG keys of a policy, optionally of one target only. */
  nsgsOf(policyKey: string, targetId?: string): string[] {
    const entry = this.#policies.get(policyKey);
    if (entry === undefined) return [];
    const t = targetId?.toLowerCase();
    const keys = entry.bindings
      .filter((b) => t === undefined || b.binding.targetId.toLowerCase() === t)
      .map((b) => nsgKey(b.nsgId));
    return [...new Set(keys)];
  }

  /** The ARM spelling of an NSG key. */
  nsgId(key: string): string {
    return this.#ids.get(key) ?? key;
  }

  allNsgs(): string[] {
    return [...this.#byNsg.keys()];
  }

  isDeleting(policyKey: string): boolean {
    return this.#policies.get(policyKey)?.deleting === true;
  }

  #unindex(policyKey: string): Set<string> {
    const touched = new Set<string>();
    const old = this.#policies.get(policyKey);
    for (const b of old?.bindings ?? []) {
      const k = nsgKey(b.nsgId);
      touched.add(k);
      const perPolicy = this.#byNsg.get(k);
      perPolicy?.delete(policyKey);
      if (perPolicy?.size === 0) {
        this.#byNsg.delete(k);
        this.#ids.delete(k);
      }
    }
    return touched;
  }
}

function sameEntry(a: PolicyEntry, b: PolicyEntry): boolean {
  return a.deleting === b.deleting && JSON.stringify(a.bindings) === JSON.stringify(b.bindings);
}
