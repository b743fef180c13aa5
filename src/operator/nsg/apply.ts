// Applying an NSG plan to Azure in either write mode. `rule` mode PUTs/DELETEs only this instance's
// own rules; `nsg` mode PUTs the whole NSG once with If-Match and, on 412, re-reads and re-plans (never
// overwrites a concurrent change). A rule Azure refuses as invalid is reported, not retried; any
// retryable failure is thrown so the work queue backs off (honouring Retry-After). Before any write
// the plan is checked to touch only the instance's own rules: the Azure adapter's guard knows only
// "some drawbridge instance's", not which one.
import type { AzurePort } from "../../azure/port.ts";
import { AzureError } from "../../azure/port.ts";
import { isOwnRule, ruleSignature } from "../../core/index.ts";
import type { NsgPlan, ObservedNsg } from "../../core/index.ts";
import type { WriteMode } from "../../runtime/config.ts";

export interface ApplyResult {
  plan: NsgPlan;
  /** Rules Azure refused (name -> reason). */
  refused: Map<string, { reason: string; message: string }>;
  writes: number;
}

function refusal(err: AzureError): { reason: string; message: string } {
  return { reason: err.code ?? "AzureRefused", message: err.message };
}

/**
 * PUTs, then DELETEs. When Azure refuses a deny's PUT, no deny is deleted in this pass: a deny goes
 * only once its replacement is in place (an upgrade renames every rule, see ADR 0011), so a port is
 * never left more open than before; the next reconcile retries.
 */
async function applyRules(azure: AzurePort, observed: ObservedNsg, plan: NsgPlan): Promise<ApplyResult> {
  const nsgId = observed.id;
  const refused = new Map<string, { reason: string; message: string }>();
  let writes = 0;
  let denyRefused = false;
  for (const rule of plan.puts) {
    try {
      writes++;
      await azure.putRule(nsgId, rule);
    } catch (err) {
      if (!(err instanceof AzureError && err.kind === "Invalid")) throw err;
      refused.set(rule.name, refusal(err));
      if (rule.access === "Deny") denyRefused = true;
    }
  }
  const denies = new Set<string>();
  if (denyRefused) {
    for (const r of observed.securityRules) if (r.access === "Deny") denies.add(r.name.toLowerCase());
  }
  for (const name of plan.deletes) {
    if (denies.has(name.toLowerCase())) continue;
    try {
      writes++;
      await azure.deleteRule(nsgId, name);
    } catch (err) {
      if (!(err instanceof AzureError && err.kind === "NotFound")) throw err;
    }
  }
  return { plan, refused, writes };
}

/** Thrown instead of a write that would touch a rule this instance does not own (a planner bug). */
export class ForeignWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ForeignWriteError";
  }
}

/**
 * Refuses a plan whose writes reach beyond the instance's own rules: a PUT or DELETE of another
 * rule, or (`nsg` mode) a body that drops, changes or adds a rule that is not the instance's own.
 */
export function checkOwnWrites(
  mode: WriteMode,
  observed: ObservedNsg,
  plan: NsgPlan,
  instance: string,
): void {
  const where = `NSG ${observed.id} (instance ${JSON.stringify(instance)})`;
  for (const r of plan.puts) {
    if (!isOwnRule(r, instance)) throw new ForeignWriteError(`refusing to PUT rule ${r.name} of ${where}`);
  }
  for (const name of plan.deletes) {
    if (!isOwnRule({ name }, instance))
      throw new ForeignWriteError(`refusing to DELETE rule ${name} of ${where}`);
  }
  if (mode === "rule") return;
  const kept = new Map<string, string>();
  for (const r of plan.nsgBody) if (!isOwnRule(r, instance)) kept.set(r.name.toLowerCase(), ruleSignature(r));
  let foreign = 0;
  for (const r of observed.securityRules) {
    if (isOwnRule(r, instance)) continue;
    foreign++;
    if (kept.get(r.name.toLowerCase()) !== ruleSignature(r)) {
      throw new ForeignWriteError(`refusing to drop or change rule ${r.name} of ${where}`);
    }
  }
  if (kept.size !== foreign) throw new ForeignWriteError(`refusing to add rules not owned by ${where}`);
}

/**
 * Apply `plan` (made from `observed` for `instance`); `replan` re-plans from a fresh read after a 412.
 * Throws ForeignWriteError, writing nothing, when a plan would touch a rule the instance does not own.
 */
export async function applyPlan(
  mode: WriteMode,
  azure: AzurePort,
  observed: ObservedNsg,
  plan: NsgPlan,
  replan: (fresh: ObservedNsg) => NsgPlan,
  instance = "",
): Promise<ApplyResult> {
  if (plan.unchanged) return { plan, refused: new Map(), writes: 0 };
  checkOwnWrites(mode, observed, plan, instance);
  if (mode === "rule") return applyRules(azure, observed, plan);
  let current = observed;
  let p = plan;
  let writes = 0;
  for (let attempt = 0; ; attempt++) {
    if (p.unchanged) return { plan: p, refused: new Map(), writes };
    try {
      writes++;
      await azure.replaceRules(current, p.nsgBody);
      return { plan: p, refused: new Map(), writes };
    } catch (err) {
      if (err instanceof AzureError && err.kind === "Invalid") {
        const refused = new Map(p.puts.map((r) => [r.name, refusal(err)]));
        return { plan: p, refused, writes };
      }
      if (!(err instanceof AzureError && err.kind === "PreconditionFailed") || attempt >= 4) throw err;
      current = await azure.getNsg(observed.id);
      p = replan(current);
      if (!p.unchanged) checkOwnWrites(mode, current, p, instance);
    }
  }
}
