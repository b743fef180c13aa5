// A foreign writer: another party editing the same NSGs. Every interval it adds, updates or
// removes a `foreign-writer-*` rule (priorities 2000..2999, never touching other rules) on each
// listed NSG, through the same per-NSG serialization as every other writer.
import type { Core } from "./core.ts";
import { idKey, parseResourceId } from "./ids.ts";
import { newEtag, nsgDoc, rulesOf, shapeOf, type RuleInput } from "./nsg-model.ts";
import { validateRuleSet } from "./validation.ts";
import { recordWrite, ruleFingerprints } from "./write-log.ts";
import { runNsgWrite } from "./writes.ts";

const PREFIX = "foreign-writer-";

function freePriority(rules: RuleInput[], random: () => number): number | undefined {
  const used = new Set(
    rules.filter((r) => r.properties["direction"] === "Inbound").map((r) => r.properties["priority"]),
  );
  const start = 2000 + Math.floor(random() * 1000);
  for (let i = 0; i < 1000; i++) {
    const p = 2000 + ((start - 2000 + i) % 1000);
    if (!used.has(p)) return p;
  }
  return undefined;
}

function foreignRule(name: string, priority: number, port: number): RuleInput {
  return {
    name,
    properties: {
      provisioningState: "Succeeded",
      description: "edited by the emulator's foreign writer",
      protocol: "Tcp",
      sourcePortRange: "*",
      destinationPortRange: String(port),
      sourceAddressPrefix: "198.51.100.0/24",
      destinationAddressPrefix: "*",
      access: "Allow",
      priority,
      direction: "Inbound",
      sourcePortRanges: [],
      destinationPortRanges: [],
      sourceAddressPrefixes: [],
      destinationAddressPrefixes: [],
    },
  };
}

/** One edit of one NSG's rule list; returns the new list, or undefined for no change. */
export function foreignEdit(rules: RuleInput[], random: () => number): RuleInput[] | undefined {
  const mine = rules.filter((r) => r.name.startsWith(PREFIX));
  const roll = random();
  const port = 1024 + Math.floor(random() * 60000);
  if (mine.length === 0 || (roll < 0.4 && mine.length < 5)) {
    const priority = freePriority(rules, random);
    if (priority === undefined) return undefined;
    return [...rules, foreignRule(`${PREFIX}${Math.floor(random() * 1e9).toString(36)}`, priority, port)];
  }
  const target = mine[Math.floor(random() * mine.length)];
  if (target === undefined) return undefined;
  if (roll < 0.7) {
    const updated = foreignRule(target.name, Number(target.properties["priority"]), port);
    return rules.map((r) => (r.name === target.name ? updated : r));
  }
  return rules.filter((r) => r.name !== target.name);
}

/** Applies one foreign edit to the stored NSG (new etag); false when there was nothing to edit. */
export function applyForeignEdit(core: Core, id: string): boolean {
  const current = core.store.getNsg(id);
  if (current === undefined) return false;
  const shape = shapeOf(current);
  const rules = foreignEdit(shape.rules, Math.random);
  if (rules === undefined) return false;
  validateRuleSet(rules, current.id);
  core.store.putNsg(nsgDoc({ ...shape, rules }, newEtag()));
  return true;
}

/**
 * The deterministic form of the interval writer's race (faults.foreignWriterRaces): a conditional
 * NSG PUT to a listed NSG that is not busy finds a foreign edit made just before it, so its
 * If-Match is stale. Each race spends one from the count.
 */
export function raceConditionalPut(core: Core, id: string, ifMatch: string | undefined): void {
  const races = core.faults.foreignWriterRaces ?? 0;
  if (races <= 0 || ifMatch === undefined || ifMatch === "" || ifMatch === "*") return;
  const key = idKey(id);
  if (!(core.faults.foreignWriterNsgIds ?? []).some((n) => idKey(n) === key)) return;
  if (core.locks.holder(key) !== undefined) return;
  const before = ruleFingerprints(core, id);
  try {
    if (!applyForeignEdit(core, id)) return;
  } catch {
    return;
  }
  recordWrite(core, id, "foreign-writer", before);
  core.faults.foreignWriterRaces = races - 1;
  core.stats.countFault("race");
}

export class ForeignWriter {
  private timer: NodeJS.Timeout | undefined;
  private readonly core: Core;
  edits = 0;

  constructor(core: Core) {
    this.core = core;
  }

  configure(intervalMs: number | undefined, nsgIds: string[] | undefined): void {
    this.stop();
    if (intervalMs === undefined || intervalMs <= 0 || nsgIds === undefined || nsgIds.length === 0) return;
    this.timer = setInterval(() => {
      for (const id of nsgIds) void this.editOne(id);
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async editOne(id: string): Promise<void> {
    const store = this.core.store;
    const nsg = store.getNsg(id);
    const parsed = parseResourceId(id);
    if (nsg === undefined || parsed === undefined) return;
    const req = {
      nsgId: nsg.id,
      subscriptionId: parsed.subscriptionId,
      location: nsg.location ?? "",
      apiVersion: "2024-05-01",
      actor: "foreign-writer" as const,
    };
    try {
      await runNsgWrite(this.core, req, () => {
        const current = store.getNsg(id);
        if (current === undefined) return { status: 204 };
        if (applyForeignEdit(this.core, id)) this.edits += 1;
        return { status: 200, body: rulesOf(current).length };
      });
    } catch {
      // The NSG was busy (another writer holds it) or the edit was invalid: skip this tick.
    }
  }
}
