// Normalizes the policy bindings of one NSG and indexes grants by the allow rule that carries them.
import type { PriorityRange, Protocol } from "../api/types.ts";
import { normalizePrefix } from "./cidr.ts";
import { bindingRulePrefix, shortTargetName } from "./names.ts";
import type { BindingRef } from "./rules.ts";
import type { Grant, PolicyBinding } from "./types.ts";

export interface NormBinding extends BindingRef {
  key: string;
  band: PriorityRange;
  /** Ports per protocol, protocols and ports sorted. */
  protocols: [Protocol, number[]][];
}

export function bindingKey(policyKey: string, targetId: string): string {
  return `${policyKey}\n${targetId.toLowerCase()}`;
}

const PROTOCOL_INDEX: Record<Protocol, number> = { TCP: 0, UDP: 1, Any: 2 };

/** A number naming (protocol, port), cheaper to hash than a string. */
export function slotKey(protocol: Protocol, port: number): number {
  return port * 4 + PROTOCOL_INDEX[protocol];
}

/** One binding per (policy, target): duplicates merge their destinations and ports. Sorted by key. */
export function normalizeBindings(bindings: PolicyBinding[]): NormBinding[] {
  const byKey = new Map<
    string,
    { b: PolicyBinding; dests: Set<string>; ports: Map<Protocol, Set<number>> }
  >();
  for (const b of bindings) {
    const key = bindingKey(b.policyKey, b.targetId);
    const entry = byKey.get(key) ?? { b, dests: new Set<string>(), ports: new Map<Protocol, Set<number>>() };
    byKey.set(key, entry);
    for (const d of b.destinationPrefixes) {
      const n = normalizePrefix(d);
      if (n !== undefined) entry.dests.add(n);
    }
    for (const p of b.ports) {
      const set = entry.ports.get(p.protocol) ?? new Set<number>();
      set.add(p.number);
      entry.ports.set(p.protocol, set);
    }
  }
  const out: NormBinding[] = [];
  for (const [key, { b, dests, ports }] of byKey) {
    if (dests.size === 0) continue; // nothing to protect or open here
    const protocols = [...ports.entries()]
      .map(([protocol, set]): [Protocol, number[]] => [protocol, [...set].sort((x, y) => x - y)])
      .sort((x, y) => (x[0] < y[0] ? -1 : 1));
    out.push({
      key,
      policyKey: b.policyKey,
      targetId: b.targetId,
      band: b.priorityRange,
      destinations: [...dests].sort(),
      protocols,
      rulePrefix: bindingRulePrefix(b.policyKey, b.targetId),
      targetName: shortTargetName(b.targetId),
    });
  }
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

/** Grants by binding key, then by slotKey(protocol, port). */
export function indexGrants(grants: Grant[]): Map<string, Map<number, Grant[]>> {
  const index = new Map<string, Map<number, Grant[]>>();
  // Grants share their key strings; computing each binding key once keeps this linear and cheap.
  const keys = new Map<string, Map<string, string>>();
  for (const g of grants) {
    let byTarget = keys.get(g.policyKey);
    if (byTarget === undefined) {
      byTarget = new Map();
      keys.set(g.policyKey, byTarget);
    }
    let bk = byTarget.get(g.targetId);
    if (bk === undefined) {
      bk = bindingKey(g.policyKey, g.targetId);
      byTarget.set(g.targetId, bk);
    }
    let slots = index.get(bk);
    if (slots === undefined) {
      slots = new Map();
      index.set(bk, slots);
    }
    const sk = slotKey(g.protocol, g.port);
    const list = slots.get(sk);
    if (list === undefined) slots.set(sk, [g]);
    else list.push(g);
  }
  return index;
}
