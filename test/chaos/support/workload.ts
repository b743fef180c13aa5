// The request workload: n requests with their own sources, a mix of ports and of short (expire
// during the run) and long durations, submitted a few at a time as alice.
import type { AccessRequest } from "../../../src/api/types.ts";
import { PORTS, chaosRequest, sourceOf } from "./estate.ts";
import type { ChaosStack } from "./stack.ts";

export interface WorkItem {
  n: number;
  source: string;
  ports: number[];
  duration: string;
  short: boolean;
}

/** Deterministic mix: every third request is short (10..19 s), ports vary. */
export function workload(count: number, first = 0): WorkItem[] {
  return Array.from({ length: count }, (_, i) => {
    const n = first + i;
    const short = n % 3 === 0;
    const ports = n % 4 === 0 ? [...PORTS] : [PORTS[n % 2] ?? 22];
    return {
      n,
      source: sourceOf(n),
      ports,
      duration: short ? `PT${String(10 + (n % 10))}S` : "PT30M",
      short,
    };
  });
}

export async function submit(
  stack: ChaosStack,
  items: WorkItem[],
  opts: { concurrency?: number; spacingMs?: number } = {},
): Promise<void> {
  const queue = [...items];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      stack.expectations.submitted.add(item.source);
      await stack.kube.createRequest(
        chaosRequest(stack.ns, item.n, { ports: item.ports, duration: item.duration }),
      );
      if (opts.spacingMs !== undefined) await new Promise((r) => setTimeout(r, opts.spacingMs));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
}

/** Phases by request name. */
export function phases(requests: AccessRequest[]): Map<string, string> {
  return new Map(requests.map((r) => [r.metadata.name ?? "", r.status?.phase ?? "None"]));
}

export function countPhases(requests: AccessRequest[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of phases(requests).values()) out[p] = (out[p] ?? 0) + 1;
  return out;
}

/** Converged: long requests Active and placed in every NSG, short ones Expired and gone everywhere. */
export function converged(
  stack: ChaosStack,
  requests: AccessRequest[],
  items: WorkItem[],
  granted: Map<string, Set<string>>,
): boolean {
  const byName = new Map(requests.map((r) => [r.metadata.name ?? "", r]));
  for (const item of items) {
    const r = byName.get(`chaos-${String(item.n).padStart(4, "0")}`);
    if (r?.status?.phase !== (item.short ? "Expired" : "Active")) return false;
    const carried = granted.get(item.source);
    if (item.short) {
      if (carried !== undefined) return false;
      continue;
    }
    for (const id of stack.nsgIds) {
      for (const p of item.ports) if (carried?.has(`${id}|${String(p)}`) !== true) return false;
    }
  }
  return true;
}
