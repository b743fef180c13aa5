// Operator downtime windows during a kill/restart run, and the overstay an expired grant may have
// because of them: while no operator runs, nothing can revoke, so that time is excused and the rest
// ("beyond restart") must stay within restart + one reconcile.
import type { Overstay } from "./monitor.ts";

export interface Window {
  killedAt: number;
  restartedAt: number;
}

/** Gaps between the replicas' working lives ([ledAt, killedAt)): when no operator reconciled. */
export function downtimeWindows(
  replicas: { ledAt?: number | undefined; killedAt?: number | undefined }[],
  now = Number.POSITIVE_INFINITY,
): Window[] {
  const up = replicas
    .filter((r) => r.ledAt !== undefined)
    .map((r) => ({ from: r.ledAt ?? 0, to: r.killedAt ?? Number.POSITIVE_INFINITY }))
    .sort((a, b) => a.from - b.from);
  const out: Window[] = [];
  for (let i = 1; i < up.length; i++) {
    const prev = up[i - 1];
    const cur = up[i];
    if (prev !== undefined && cur !== undefined && cur.from > prev.to)
      out.push({ killedAt: prev.to, restartedAt: cur.from });
  }
  // The last one killed and its successor not reconciling yet: down until now.
  const last = up[up.length - 1];
  if (last !== undefined && last.to < now) out.push({ killedAt: last.to, restartedAt: now });
  return out;
}

/** Downtime overlapping [from, to]. */
export function downtimeWithin(from: number, to: number, windows: Window[]): number {
  let total = 0;
  for (const w of windows) total += Math.max(0, Math.min(to, w.restartedAt) - Math.max(from, w.killedAt));
  return total;
}

/** Overstay minus the downtime it overlapped. */
export function beyondRestart(o: Overstay, windows: Window[]): number {
  if (o.overstayMs <= 0) return o.overstayMs;
  return o.overstayMs - downtimeWithin(o.expiresAt, o.expiresAt + o.overstayMs, windows);
}
