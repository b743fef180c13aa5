// The optional write log (EmulatorOptions.recordWrites): for every NSG write, which rules it
// added, changed or removed, and who wrote (an ARM client or the built-in foreign writer). Fault
// tests use it to prove that a client never touched a rule it does not own.
import type { Core } from "./core.ts";
import { rulesOf } from "./nsg-model.ts";
import type { WriteLogEntry } from "./types.ts";

const MAX_ENTRIES = 100_000;

/** Rule name -> what its owner set (etag and provisioningState change with every write). */
export function ruleFingerprints(core: Core, nsgId: string): Map<string, string> | undefined {
  if (core.writeLog === undefined) return undefined;
  const doc = core.store.getNsg(nsgId);
  const out = new Map<string, string>();
  for (const r of doc === undefined ? [] : rulesOf(doc)) {
    const { provisioningState: _state, ...props } = r.properties;
    out.set(r.name.toLowerCase(), `${r.name}\n${JSON.stringify(props)}`);
  }
  return out;
}

export function recordWrite(
  core: Core,
  nsgId: string,
  actor: WriteLogEntry["actor"],
  before: Map<string, string> | undefined,
): void {
  const log = core.writeLog;
  const after = ruleFingerprints(core, nsgId);
  if (log === undefined || before === undefined || after === undefined) return;
  const changed: string[] = [];
  for (const [key, print] of before) if (after.get(key) !== print) changed.push(print.split("\n")[0] ?? key);
  for (const [key, print] of after) if (!before.has(key)) changed.push(print.split("\n")[0] ?? key);
  if (changed.length === 0) return;
  log.push({ at: Date.now(), nsgId, actor, changed });
  if (log.length > MAX_ENTRIES) log.splice(0, log.length - MAX_ENTRIES);
}
