// The plan as text for people (per NSG: + add, ~ change, - delete, with priorities) or JSON for bots.
import type { PlanReport } from "./compute.ts";

const SIGN = { add: "+", change: "~", delete: "-" } as const;

export function renderPlan(r: PlanReport): string {
  const lines: string[] = [];
  for (const n of r.nsgs) {
    lines.push(`NSG ${n.nsgId}`);
    if (n.changes.length === 0) lines.push("  no change");
    for (const c of n.changes)
      lines.push(
        `  ${SIGN[c.action]} ${c.priority} ${c.access === undefined ? "" : `${c.access} `}${c.name}`,
      );
    for (const c of n.conflicts) lines.push(`  ! conflict: ${c}`);
  }
  for (const p of r.problems) lines.push(`! ${p.policy}: ${p.message}`);
  const count = r.nsgs.reduce((s, n) => s + n.changes.length, 0);
  lines.push(
    r.changed
      ? `Plan: ${count} rule change(s) in ${r.nsgs.filter((n) => n.changes.length > 0).length} NSG(s).`
      : "No changes.",
  );
  return `${lines.join("\n")}\n`;
}
