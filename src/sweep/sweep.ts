// The sweep itself: read the NSGs (whole subscriptions and/or named NSGs), pick the sweeping
// instance's lapsed allow rules (decide.ts), re-read each NSG that has some just before deleting so
// a rule the operator has just given a new grant is spared, and DELETE those rules one by one. One
// log line per deletion, one summary line; an ARM failure on one NSG does not stop the others.
import type { Logger } from "pino";
import type { AzurePort } from "../azure/port.ts";
import { AzureError } from "../azure/port.ts";
import type { ObservedNsg } from "../core/nsg.ts";
import { sweepNsg } from "./decide.ts";

export interface SweepOptions {
  subscriptions: string[];
  nsgIds: string[];
  instanceId: string;
  graceMs: number;
  dryRun: boolean;
}

export interface SweepDeps {
  azure: Pick<AzurePort, "listNsgs" | "getNsg" | "deleteRule">;
  logger: Logger;
  /** Epoch ms; read once per NSG. */
  now: () => number;
}

export interface SweepSummary {
  nsgs: number;
  /** Own Inbound Allow rules looked at. */
  scanned: number;
  lapsed: number;
  deleted: number;
  /** Own allow rules whose description states no readable expiry: left alone. */
  unreadable: number;
  /** ARM calls that failed (lists, reads, deletes). */
  errors: number;
  dryRun: boolean;
}

/** An ARM failure as one line's fields: kind, code and message, never a dump. */
function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof AzureError) {
    return { error: err.message, kind: err.kind, code: err.code, status: err.statusCode };
  }
  return { error: err instanceof Error ? err.message : String(err) };
}

async function readAll(opts: SweepOptions, deps: SweepDeps, summary: SweepSummary): Promise<ObservedNsg[]> {
  const byId = new Map<string, ObservedNsg>();
  for (const subscriptionId of opts.subscriptions) {
    try {
      for (const nsg of await deps.azure.listNsgs(subscriptionId)) byId.set(nsg.id.toLowerCase(), nsg);
    } catch (err) {
      summary.errors++;
      deps.logger.error(
        { event: "sweep-list-failed", subscriptionId, ...errorFields(err) },
        "listing NSGs failed",
      );
    }
  }
  for (const nsgId of opts.nsgIds) {
    if (byId.has(nsgId.toLowerCase())) continue;
    try {
      byId.set(nsgId.toLowerCase(), await deps.azure.getNsg(nsgId));
    } catch (err) {
      // A missing NSG holds no rule to remove: worth a warning, not a failure.
      if (err instanceof AzureError && err.kind === "NotFound") {
        deps.logger.warn({ event: "sweep-nsg-missing", nsg: nsgId }, "NSG not found");
        continue;
      }
      summary.errors++;
      deps.logger.error(
        { event: "sweep-read-failed", nsg: nsgId, ...errorFields(err) },
        "reading the NSG failed",
      );
    }
  }
  return [...byId.values()];
}

async function sweepOne(
  nsg: ObservedNsg,
  opts: SweepOptions,
  deps: SweepDeps,
  summary: SweepSummary,
): Promise<void> {
  const log = deps.logger;
  const first = sweepNsg(nsg, opts.instanceId, deps.now(), opts.graceMs);
  summary.scanned += first.scanned;
  summary.unreadable += first.unreadable.length;
  if (first.unreadable.length > 0) {
    log.warn(
      { event: "sweep-unreadable", nsg: nsg.id, rules: first.unreadable },
      "allow rules without a readable expiry were left alone",
    );
  }
  if (first.lapsed.length === 0) return;
  let lapsed = first.lapsed;
  if (!opts.dryRun) {
    // Re-read right before deleting: the list may be minutes old on a large estate.
    let fresh: ObservedNsg;
    try {
      fresh = await deps.azure.getNsg(nsg.id);
    } catch (err) {
      if (err instanceof AzureError && err.kind === "NotFound") return;
      summary.errors++;
      log.error({ event: "sweep-read-failed", nsg: nsg.id, ...errorFields(err) }, "reading the NSG failed");
      return;
    }
    const still = new Set(
      sweepNsg(fresh, opts.instanceId, deps.now(), opts.graceMs).lapsed.map((l) => l.rule.name),
    );
    lapsed = lapsed.filter((l) => still.has(l.rule.name));
  }
  summary.lapsed += lapsed.length;
  for (const { rule, expiresAt } of lapsed) {
    const fields = {
      event: opts.dryRun ? "sweep-would-delete" : "sweep-deleted",
      nsg: nsg.id,
      rule: rule.name,
      expiresAt: expiresAt.toISOString(),
      lapsedSeconds: Math.floor((deps.now() - expiresAt.getTime()) / 1000),
      sources: rule.sourceAddressPrefixes ?? [rule.sourceAddressPrefix ?? ""],
    };
    if (opts.dryRun) {
      log.info(fields, "lapsed allow rule (dry run: not deleted)");
      continue;
    }
    try {
      await deps.azure.deleteRule(nsg.id, rule.name);
      summary.deleted++;
      log.info(fields, "deleted lapsed allow rule");
    } catch (err) {
      summary.errors++;
      log.error({ ...fields, event: "sweep-delete-failed", ...errorFields(err) }, "deleting the rule failed");
    }
  }
}

/** Sweeps every NSG named by `opts`; the summary's errors say whether all of ARM answered. */
export async function runSweep(opts: SweepOptions, deps: SweepDeps): Promise<SweepSummary> {
  const summary: SweepSummary = {
    nsgs: 0,
    scanned: 0,
    lapsed: 0,
    deleted: 0,
    unreadable: 0,
    errors: 0,
    dryRun: opts.dryRun,
  };
  const nsgs = await readAll(opts, deps, summary);
  summary.nsgs = nsgs.length;
  for (const nsg of nsgs) await sweepOne(nsg, opts, deps, summary);
  deps.logger.info({ event: "sweep-summary", instanceId: opts.instanceId, ...summary }, "sweep finished");
  return summary;
}
