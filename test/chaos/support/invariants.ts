// The safety invariants of docs/reliability.md as pure checks over one snapshot: the NSGs as the emulator holds
// them, and the AccessRequests as the API server listed them just before. Each check returns
// human-readable violations (empty = holds), so a failing run says what broke, where and when.
import type { AccessRequest } from "../../../src/api/types.ts";

export interface Rule {
  name: string;
  etag?: string;
  properties: Record<string, unknown> & {
    priority: number;
    direction: string;
    access: string;
    protocol: string;
  };
}

export interface Snapshot {
  /** When the NSGs were read (epoch ms); the requests were listed at or before it. */
  at: number;
  nsgs: Map<string, Rule[]>;
  requests: AccessRequest[];
}

export interface Expectations {
  /** Foreign rules of each NSG as seeded (the emulator's stored form). */
  foreign: Map<string, Rule[]>;
  band: { from: number; to: number };
  /** NSGs the policy targets: where an Active request's source must be. */
  policyNsgs: string[];
  /** How long after expiresAt (or after a terminal phase was first seen) a source may linger. */
  boundMs: number;
  /** First time each request was seen Revoked/Failed/Expired (epoch ms). */
  closedSeen: Map<string, number>;
  /** Time within [from, to] the bound does not count (e.g. no operator was running); default none. */
  excusedMs?: (from: number, to: number) => number;
  /** Every source the workload has submitted so far (requests listed earlier may miss the newest). */
  submitted: Set<string>;
}

const MANAGED = "drawbridge-";
/** Rules the emulator's foreign writer owns: they change by design, only their owner may touch them. */
const FOREIGN_WRITER = "foreign-writer-";

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

export function sourcesOf(r: Rule): string[] {
  const many = list(r.properties.sourceAddressPrefixes);
  if (many.length > 0) return many;
  const one = r.properties.sourceAddressPrefix;
  return typeof one === "string" ? [one] : [];
}

export function portsOf(r: Rule): string[] {
  const many = list(r.properties.destinationPortRanges);
  if (many.length > 0) return many;
  const one = r.properties.destinationPortRange;
  return typeof one === "string" ? [one] : [];
}

/** A rule without what every write changes (etag, provisioningState): what a foreign owner set. */
export function comparable(r: Rule): string {
  const { provisioningState: _p, ...props } = r.properties;
  return JSON.stringify({ name: r.name, properties: props });
}

export function foreignOf(rules: Rule[]): Rule[] {
  return rules.filter((r) => !r.name.startsWith(MANAGED) && !r.name.startsWith(FOREIGN_WRITER));
}

export function checkForeign(snap: Snapshot, exp: Expectations): string[] {
  const out: string[] = [];
  for (const [id, seeded] of exp.foreign) {
    const now = new Map(foreignOf(snap.nsgs.get(id) ?? []).map((r) => [r.name, comparable(r)]));
    for (const r of seeded) {
      const cur = now.get(r.name);
      if (cur === undefined) out.push(`${id}: foreign rule ${r.name} is gone`);
      else if (cur !== comparable(r)) out.push(`${id}: foreign rule ${r.name} changed: ${cur}`);
    }
    if (now.size !== seeded.length)
      out.push(`${id}: ${String(now.size)} foreign rules, seeded ${String(seeded.length)}`);
  }
  return out;
}

function checkNsgShape(id: string, rules: Rule[], band: { from: number; to: number }): string[] {
  const out: string[] = [];
  const slots = new Map<string, string>();
  for (const r of rules) {
    const slot = `${r.properties.direction}/${String(r.properties.priority)}`;
    const other = slots.get(slot);
    if (other !== undefined) out.push(`${id}: ${r.name} and ${other} share priority ${slot}`);
    slots.set(slot, r.name);
  }
  const managed = rules.filter((r) => r.name.startsWith(MANAGED));
  const perKey = new Map<string, string>();
  for (const r of managed) {
    const p = r.properties.priority;
    if (p < band.from || p > band.to) out.push(`${id}: ${r.name} at priority ${String(p)} outside the band`);
    const keys =
      r.properties.access === "Allow"
        ? portsOf(r).map((port) => `Allow/${r.properties.protocol}/${port}`)
        : [`Deny/${r.properties.protocol}`];
    for (const k of keys) {
      const other = perKey.get(k);
      if (other !== undefined) out.push(`${id}: duplicate managed rule for ${k}: ${r.name}, ${other}`);
      perKey.set(k, r.name);
    }
    const sources = sourcesOf(r);
    if (new Set(sources).size !== sources.length) out.push(`${id}: ${r.name} repeats a source`);
  }
  return out;
}

export function checkShape(snap: Snapshot, exp: Expectations): string[] {
  return [...snap.nsgs].flatMap(([id, rules]) => checkNsgShape(id, rules, exp.band));
}

/** source -> "nsg|port" entries where a managed Allow rule carries it. */
export function grantedSources(nsgs: Map<string, Rule[]>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [id, rules] of nsgs) {
    for (const r of rules) {
      if (!r.name.startsWith(MANAGED) || r.properties.access !== "Allow") continue;
      for (const s of sourcesOf(r)) {
        const set = out.get(s) ?? new Set<string>();
        for (const port of portsOf(r)) set.add(`${id}|${port}`);
        out.set(s, set);
      }
    }
  }
  return out;
}

function checkRequest(
  r: AccessRequest,
  carried: Set<string> | undefined,
  snap: Snapshot,
  exp: Expectations,
): string | undefined {
  const name = r.metadata.name ?? "?";
  const phase = r.status?.phase;
  const expiresAt = Date.parse(r.status?.expiresAt ?? "");
  const present = carried !== undefined && carried.size > 0;
  const excused = Number.isNaN(expiresAt) ? 0 : (exp.excusedMs?.(expiresAt, snap.at) ?? 0);
  if (!Number.isNaN(expiresAt) && snap.at - excused > expiresAt + exp.boundMs && present) {
    const late = String(snap.at - expiresAt);
    return `${name}: ${r.spec.sourceAddressPrefix} still open ${late} ms after expiresAt (${String(excused)} ms without an operator)`;
  }
  if (phase === "Active" && !Number.isNaN(expiresAt) && expiresAt > snap.at + 1000) {
    const missing = exp.policyNsgs.flatMap((id) =>
      r.spec.ports.map((p) => `${id}|${String(p)}`).filter((k) => carried?.has(k) !== true),
    );
    if (missing.length > 0)
      return `${name}: Active but ${String(missing.length)} rule placements missing, e.g. ${missing[0] ?? ""}`;
  }
  if (phase === "Denied" && r.status?.startTime === undefined && present) {
    return `${name}: Denied before approval but its source is in an NSG`;
  }
  const closed = exp.closedSeen.get(name);
  if (
    (phase === "Revoked" || phase === "Failed") &&
    closed !== undefined &&
    snap.at > closed + exp.boundMs &&
    present
  ) {
    return `${name}: ${phase} for ${String(snap.at - closed)} ms but its source is still in an NSG`;
  }
  return undefined;
}

/** Request status agrees with the NSGs, and no NSG carries a source no request accounts for. */
export function checkAgreement(snap: Snapshot, exp: Expectations): string[] {
  const granted = grantedSources(snap.nsgs);
  const out: string[] = [];
  for (const r of snap.requests) {
    const v = checkRequest(r, granted.get(r.spec.sourceAddressPrefix), snap, exp);
    if (v !== undefined) out.push(v);
  }
  for (const s of granted.keys())
    if (!exp.submitted.has(s)) out.push(`source ${s} is open but no request names it`);
  return out;
}

export function checkAll(snap: Snapshot, exp: Expectations): string[] {
  return [...checkForeign(snap, exp), ...checkShape(snap, exp), ...checkAgreement(snap, exp)];
}
