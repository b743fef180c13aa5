// What a planner keeps between plans of the bindings it is given again. The operator passes the same
// PolicyBinding objects to plan after plan (it rebuilds them only when a policy or its targets
// change), and each plan derived the same text from them anew: the lower-cased target id, its
// hash, the rule prefix, the description tails, and the descriptions of the rules themselves. A
// PlanMemo holds these per binding object (a WeakMap: a binding no longer used takes its entry with
// it) and checks, each time, that the fields they were derived from are still the same strings, so
// a binding changed in place is derived again. What it holds never changes a plan, only its cost.
import type { PolicyPort, Protocol } from "../api/types.ts";
import type { AllowDescriptions } from "./allow-descriptions.ts";
import { allowDescriptionTail, bindingHashOfLower, hashLow32, shortTargetName } from "./names.ts";

/** The fields of a PolicyBinding (types.ts, which names this memo in PlanInput) the memo derives text from. */
interface PolicyBinding {
  policyKey: string;
  targetId: string;
  destinationPrefixes: string[];
  ports: PolicyPort[];
}

/** An allow description kept for one (protocol, port, source count) of a binding, for one expiry. */
interface AllowText {
  until: string;
  text: string;
}

/** What a binding's rule names and descriptions are derived from, and the text derived. */
export interface BindingMemo {
  policyKey: string;
  targetId: string;
  lowerTargetId: string;
  /** bindingHashOfLower(policyKey, lowerTargetId). */
  hash: string;
  /** hashLow32(hash). */
  hashLow: number;
  /** shortTargetName(targetId). */
  targetName: string;
  /** allowDescriptionTail(policyKey, targetName). */
  allowTail: string;
  /** The binding's destinationPrefixes when `destinations` was derived from them, entry by entry. */
  destinationsFrom: string[] | undefined;
  destinations: string[];
  /** The binding's ports when `protocols` was derived from them: (number, protocol) per port. */
  portsFrom: (number | string)[] | undefined;
  protocols: [Protocol, number[]][];
  /** Rule prefixes and description heads by instance: most planners plan for one instance only. */
  instance: string | undefined;
  rulePrefix: string;
  /** rulePrefix.toLowerCase(). */
  foldedPrefix: string;
  allowHead: string;
  /** Deny descriptions by protocol, for `instance`. */
  denyTexts: Map<Protocol, string>;
  /** Allow descriptions by allow-descriptions.ts's key, for `instance`. */
  allowTexts: Map<number, AllowText>;
}

/** A planner's memo (newPlanMemo): pass it in PlanInput.memo to every plan of that planner. */
export interface PlanMemo {
  bindings: WeakMap<PolicyBinding, BindingMemo>;
}

export function newPlanMemo(): PlanMemo {
  return { bindings: new WeakMap() };
}

function derive(b: PolicyBinding): BindingMemo {
  const lowerTargetId = b.targetId.toLowerCase();
  const hash = bindingHashOfLower(b.policyKey, lowerTargetId);
  const targetName = shortTargetName(b.targetId);
  return {
    policyKey: b.policyKey,
    targetId: b.targetId,
    lowerTargetId,
    hash,
    hashLow: hashLow32(hash),
    targetName,
    allowTail: allowDescriptionTail(b.policyKey, targetName),
    destinationsFrom: undefined,
    destinations: [],
    portsFrom: undefined,
    protocols: [],
    instance: undefined,
    rulePrefix: "",
    foldedPrefix: "",
    allowHead: "",
    denyTexts: new Map(),
    allowTexts: new Map(),
  };
}

/** The binding's memo, derived again when its policy key or target id is no longer what it was. */
export function bindingMemo(memo: PlanMemo, b: PolicyBinding): BindingMemo {
  const m = memo.bindings.get(b);
  if (m !== undefined && m.policyKey === b.policyKey && m.targetId === b.targetId) return m;
  const fresh = derive(b);
  memo.bindings.set(b, fresh);
  return fresh;
}

/**
 * Sets the memo's instance-dependent text (`rulePrefix` from `prefixOf`, `allowHead`), dropping the
 * descriptions kept for another instance or head.
 */
export function forInstance(
  m: BindingMemo,
  instance: string,
  allowHead: string,
  prefixOf: (m: BindingMemo) => string,
): void {
  if (m.instance === instance && m.allowHead === allowHead) return;
  m.instance = instance;
  m.allowHead = allowHead;
  m.rulePrefix = prefixOf(m);
  m.foldedPrefix = m.rulePrefix.toLowerCase();
  m.denyTexts.clear();
  m.allowTexts.clear();
}

/** The kept deny description of `protocol`, built by `build` when there is none. */
export function denyText(m: BindingMemo, protocol: Protocol, build: () => string): string {
  let text = m.denyTexts.get(protocol);
  if (text === undefined) {
    text = build();
    m.denyTexts.set(protocol, text);
  }
  return text;
}

function sameTexts(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What `derive` makes of the binding's destination prefixes, derived again when they changed. */
export function keptDestinations(m: BindingMemo, b: PolicyBinding, derive: () => string[]): string[] {
  const from = b.destinationPrefixes;
  if (m.destinationsFrom !== undefined && sameTexts(m.destinationsFrom, from)) return m.destinations;
  m.destinations = derive();
  m.destinationsFrom = from.slice();
  return m.destinations;
}

function samePorts(kept: (number | string)[], ports: PolicyPort[]): boolean {
  if (kept.length !== 2 * ports.length) return false;
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i];
    if (p === undefined || kept[2 * i] !== p.number || kept[2 * i + 1] !== p.protocol) return false;
  }
  return true;
}

/** What `derive` makes of the binding's ports (numbers and protocols), derived again when they changed. */
export function keptProtocols(
  m: BindingMemo,
  b: PolicyBinding,
  derive: () => [Protocol, number[]][],
): [Protocol, number[]][] {
  if (m.portsFrom !== undefined && samePorts(m.portsFrom, b.ports)) return m.protocols;
  m.protocols = derive();
  const from: (number | string)[] = [];
  for (const p of b.ports) from.push(p.number, p.protocol);
  m.portsFrom = from;
  return m.protocols;
}

/** Keeps at most this many allow descriptions per binding (ports x source counts in use). */
const ALLOW_TEXTS_MAX = 1024;

/**
 * describe(m.allowTail, protocol, port, sources, m.allowHead, until), kept per `key` (the number
 * naming protocol, port and source count) for the last expiry asked. The diff compares it with the
 * observed description, and V8 flattens a string joined from pieces at its first comparison, in
 * place: a kept one is copied once, not once per plan.
 */
export function allowText(
  m: BindingMemo,
  key: number,
  protocol: Protocol,
  port: number,
  sources: number,
  until: string,
  describe: AllowDescriptions,
): string {
  const kept = m.allowTexts.get(key);
  if (kept !== undefined && kept.until === until) return kept.text;
  const text = describe(m.allowTail, protocol, port, sources, m.allowHead, until);
  if (kept !== undefined) {
    kept.until = until;
    kept.text = text;
  } else {
    if (m.allowTexts.size >= ALLOW_TEXTS_MAX) m.allowTexts.clear();
    m.allowTexts.set(key, { until, text });
  }
  return text;
}
