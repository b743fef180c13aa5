// Leftovers of control planes whose owner died without stopping them (a SIGKILLed test run):
// their daemons (if `setpriv` was missing and they survived) are killed and their dirs removed.
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { stopState } from "./controlplane.ts";
import { isRunning } from "./processes.ts";
import { readState } from "./state.ts";

// A dir without state.json younger than this may be a plane another process is starting right now.
const STARTING_GRACE_MS = 10 * 60_000;

async function reapOne(dir: string, now: number): Promise<boolean> {
  const state = await readState(dir).catch(() => undefined);
  if (state === undefined) {
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined || now - info.mtimeMs < STARTING_GRACE_MS) return false;
    await rm(dir, { recursive: true, force: true });
    return true;
  }
  // ownerPid 0: detached on purpose (`cluster up`); its owner is whoever runs `cluster down`.
  if (state.ownerPid === 0 || isRunning(state.ownerPid)) return false;
  await stopState(state);
  return true;
}

/** Reaps every `<parent>/<prefix>*` plane whose owning process is gone; resolves to the dirs reaped. */
export async function reapStaleControlPlanes(parent: string, prefix: string): Promise<string[]> {
  const names = await readdir(parent).catch(() => [] as string[]);
  const now = Date.now();
  const reaped: string[] = [];
  for (const name of names.filter((n) => n.startsWith(prefix))) {
    const dir = join(parent, name);
    if (await reapOne(dir, now)) reaped.push(dir);
  }
  return reaped;
}
