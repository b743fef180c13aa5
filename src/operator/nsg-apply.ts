// Applying an NSG plan to Azure in either write mode. `rule` mode PUTs/DELETEs only drawbridge's own
// rules; `nsg` mode PUTs the whole NSG once with If-Match and, on 412, re-reads and re-plans (never
// overwrites a concurrent change). A rule Azure refuses as invalid is reported, not retried; any
// retryable failure is thrown so the work queue backs off (honouring Retry-After).
import type { AzurePort } from "../azure/port.ts";
import { AzureError } from "../azure/port.ts";
import type { NsgPlan, ObservedNsg } from "../core/index.ts";

export type WriteMode = "rule" | "nsg";

export interface ApplyResult {
  plan: NsgPlan;
  /** Rules Azure refused (name -> reason). */
  refused: Map<string, { reason: string; message: string }>;
  writes: number;
}

function refusal(err: AzureError): { reason: string; message: string } {
  return { reason: err.code ?? "AzureRefused", message: err.message };
}

async function applyRules(azure: AzurePort, nsgId: string, plan: NsgPlan): Promise<ApplyResult> {
  const refused = new Map<string, { reason: string; message: string }>();
  let writes = 0;
  for (const rule of plan.puts) {
    try {
      writes++;
      await azure.putRule(nsgId, rule);
    } catch (err) {
      if (err instanceof AzureError && err.kind === "Invalid") refused.set(rule.name, refusal(err));
      else throw err;
    }
  }
  for (const name of plan.deletes) {
    try {
      writes++;
      await azure.deleteRule(nsgId, name);
    } catch (err) {
      if (!(err instanceof AzureError && err.kind === "NotFound")) throw err;
    }
  }
  return { plan, refused, writes };
}

/** Apply `plan` (made from `observed`); `replan` re-plans from a fresh read after a 412. */
export async function applyPlan(
  mode: WriteMode,
  azure: AzurePort,
  observed: ObservedNsg,
  plan: NsgPlan,
  replan: (fresh: ObservedNsg) => NsgPlan,
): Promise<ApplyResult> {
  if (plan.unchanged) return { plan, refused: new Map(), writes: 0 };
  if (mode === "rule") return applyRules(azure, observed.id, plan);
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
    }
  }
}
