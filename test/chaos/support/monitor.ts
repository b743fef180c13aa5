// Watches a run from the outside: every 50 ms it reads the NSGs straight from the emulator (in
// process, no I/O) and notes when each source was last seen open; every ~500 ms it lists the
// AccessRequests and checks every invariant on a fresh NSG snapshot. Violations are kept (first 50
// distinct) for the test to assert on; figures (overstay, samples) for the report.
import type { AccessRequest } from "../../../src/api/types.ts";
import type { RunningEmulator } from "../../../src/emulator/index.ts";
import { checkAll, grantedSources } from "./invariants.ts";
import type { Expectations, Rule, Snapshot } from "./invariants.ts";
import type { Kube } from "./kube.ts";

export interface MonitorOptions {
  emulator: RunningEmulator;
  kube: Kube;
  nsgIds: string[];
  expectations: Expectations;
  sampleMs?: number;
  presenceMs?: number;
}

export interface Overstay {
  request: string;
  source: string;
  expiresAt: number;
  /** Last time the source was seen in any NSG minus expiresAt (<= 0: gone in time). */
  overstayMs: number;
}

export function readNsgs(emulator: RunningEmulator, ids: string[]): Map<string, Rule[]> {
  const out = new Map<string, Rule[]>();
  for (const id of ids) {
    const doc = emulator.getNsgDocument(id) as { properties?: { securityRules?: Rule[] } } | undefined;
    out.set(id, structuredClone(doc?.properties?.securityRules ?? []));
  }
  return out;
}

export class Monitor {
  readonly #o: MonitorOptions;
  readonly lastSeen = new Map<string, number>();
  readonly violations: string[] = [];
  readonly #seen = new Set<string>();
  /** Every change of what the NSGs carry, as "time +|- source nsg|port" (for a failure's diagnosis). */
  readonly timeline: string[] = [];
  #carried = new Set<string>();
  samples = 0;
  failedSamples = 0;
  latest: AccessRequest[] = [];
  #presence: NodeJS.Timeout | undefined;
  #sampling: Promise<void> | undefined;
  #stopped = false;

  constructor(o: MonitorOptions) {
    this.#o = o;
  }

  start(): void {
    this.#presence = setInterval(() => {
      this.#notePresence();
    }, this.#o.presenceMs ?? 50);
    this.#sampling = this.#sampleLoop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#presence !== undefined) clearInterval(this.#presence);
    await this.#sampling;
  }

  #notePresence(): void {
    const now = Date.now();
    const granted = grantedSources(readNsgs(this.#o.emulator, this.#o.nsgIds));
    for (const s of granted.keys()) this.lastSeen.set(s, now);
    this.#noteChanges(now, granted);
  }

  #noteChanges(now: number, granted: Map<string, Set<string>>): void {
    const carried = new Set<string>();
    for (const [source, at] of granted)
      for (const place of at) carried.add(`${source} ${place.slice(place.lastIndexOf("/") + 1)}`);
    const stamp = new Date(now).toISOString();
    if (this.timeline.length < 50_000) {
      for (const c of carried) if (!this.#carried.has(c)) this.timeline.push(`${stamp} + ${c}`);
      for (const c of this.#carried) if (!carried.has(c)) this.timeline.push(`${stamp} - ${c}`);
    }
    this.#carried = carried;
  }

  async #sampleLoop(): Promise<void> {
    const every = this.#o.sampleMs ?? 500;
    while (!this.#stopped) {
      const began = Date.now();
      await this.sample().catch(() => {
        this.failedSamples += 1; // the API server may be down on purpose
      });
      await new Promise((r) => setTimeout(r, Math.max(50, every - (Date.now() - began))));
    }
  }

  /** One invariant check now; resolves to this sample's violations. */
  async sample(): Promise<string[]> {
    const requests = await this.#o.kube.listRequests();
    this.latest = requests;
    const at = Date.now();
    this.#noteClosed(requests, at);
    const snap: Snapshot = { at, nsgs: readNsgs(this.#o.emulator, this.#o.nsgIds), requests };
    const found = checkAll(snap, this.#o.expectations);
    this.samples += 1;
    for (const v of found) {
      const key = v.replace(/\d+ ms/g, "N ms");
      if (this.#seen.has(key) || this.violations.length >= 50) continue;
      this.#seen.add(key);
      this.violations.push(`${new Date(at).toISOString()} ${v}`);
    }
    return found;
  }

  #noteClosed(requests: AccessRequest[], at: number): void {
    const closed = this.#o.expectations.closedSeen;
    for (const r of requests) {
      const phase = r.status?.phase;
      const name = r.metadata.name ?? "";
      if ((phase === "Revoked" || phase === "Failed" || phase === "Expired") && !closed.has(name))
        closed.set(name, at);
    }
  }

  /** Overstay of every request that got an expiresAt, from the latest list. */
  overstays(): Overstay[] {
    return this.latest.flatMap((r) => {
      const expiresAt = Date.parse(r.status?.expiresAt ?? "");
      if (Number.isNaN(expiresAt)) return [];
      const seen = this.lastSeen.get(r.spec.sourceAddressPrefix);
      const overstayMs = seen === undefined ? Number.NEGATIVE_INFINITY : seen - expiresAt;
      return [{ request: r.metadata.name ?? "", source: r.spec.sourceAddressPrefix, expiresAt, overstayMs }];
    });
  }
}

/** The q-quantile (0..1) of overstays, nearest rank; 0 when there are none. */
export function overstayQuantile(list: Overstay[], q: number): number {
  const sorted = list.map((o) => o.overstayMs).sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

export function maxOverstay(list: Overstay[]): number {
  return list.reduce((m, o) => Math.max(m, o.overstayMs), 0);
}
