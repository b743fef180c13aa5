// PriorityConflict: a foreign Inbound rule inside a policy's band, or two policies bound to one NSG
// whose bands overlap. Such a policy then writes nothing new to the NSG (it may only narrow or remove
// its own allow rules, so lapsed grants still close). Two overlapping policies are both frozen: were
// either to write, each would take priorities the other counts as its own band's.
import type { SecurityRule } from "./nsg.ts";
import type { NormBinding } from "./bindings.ts";
import type { PriorityConflict } from "./types.ts";

/** Index of the first rule with priority >= p in rules sorted by priority. */
function lowerBound(rules: SecurityRule[], p: number): number {
  let lo = 0;
  let hi = rules.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((rules[mid]?.priority ?? Infinity) < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Conflicts per policy key; `foreignInbound` must be sorted by priority. */
export function findConflicts(
  bindings: NormBinding[],
  foreignInbound: SecurityRule[],
  nsgName: string,
): Map<string, PriorityConflict[]> {
  const out = new Map<string, PriorityConflict[]>();
  for (const b of bindings) {
    if (out.has(b.policyKey)) continue;
    const found: PriorityConflict[] = [];
    for (let i = lowerBound(foreignInbound, b.band.from); i < foreignInbound.length; i++) {
      const rule = foreignInbound[i];
      if (rule === undefined || rule.priority > b.band.to) break;
      found.push({
        policyKey: b.policyKey,
        ruleName: rule.name,
        priority: rule.priority,
        message:
          `foreign rule ${rule.name} (Inbound, priority ${rule.priority}) sits inside the priority band ` +
          `${b.band.from}..${b.band.to} of policy ${b.policyKey} in NSG ${nsgName}; drawbridge writes no new rules there`,
      });
    }
    if (found.length > 0) out.set(b.policyKey, found);
  }
  addBandOverlaps(bindings, nsgName, out);
  return out;
}

interface Band {
  policyKey: string;
  from: number;
  to: number;
}

/** The distinct (policy, band) pairs of the bindings, which come grouped by policy key. */
function bandsOf(bindings: NormBinding[]): Band[] {
  const out: Band[] = [];
  let last: Band | undefined;
  for (const b of bindings) {
    if (last?.policyKey === b.policyKey && last.from === b.band.from && last.to === b.band.to) continue;
    last = { policyKey: b.policyKey, from: b.band.from, to: b.band.to };
    out.push(last);
  }
  return out;
}

function overlapMessage(a: Band, b: Band, nsgName: string): string {
  return (
    `priority band ${a.from}..${a.to} of policy ${a.policyKey} overlaps band ${b.from}..${b.to} of ` +
    `policy ${b.policyKey} in NSG ${nsgName}; neither policy writes new rules there`
  );
}

function add(out: Map<string, PriorityConflict[]>, c: PriorityConflict): void {
  const list = out.get(c.policyKey);
  if (list === undefined) out.set(c.policyKey, [c]);
  else list.push(c);
}

/** Adds a PriorityConflict to each of two different policies whose bands overlap, naming the other. */
function addBandOverlaps(
  bindings: NormBinding[],
  nsgName: string,
  out: Map<string, PriorityConflict[]>,
): void {
  const bands = bandsOf(bindings);
  if (bands.length < 2) return;
  bands.sort((x, y) => x.from - y.from || x.to - y.to);
  const seen = new Set<string>();
  for (let i = 0; i < bands.length; i++) {
    const a = bands[i];
    if (a === undefined) continue;
    // Sorted by `from`: every later band starting beyond a.to overlaps neither a nor anything of a's.
    for (let j = i + 1; j < bands.length; j++) {
      const b = bands[j];
      if (b === undefined || b.from > a.to) break;
      if (b.policyKey === a.policyKey || a.from > b.to) continue;
      const [first, second] = a.policyKey < b.policyKey ? [a, b] : [b, a];
      const pair = `${first.policyKey}\n${second.policyKey}`;
      if (seen.has(pair)) continue;
      seen.add(pair);
      const priority = Math.max(a.from, b.from);
      add(out, {
        policyKey: first.policyKey,
        ruleName: "",
        priority,
        message: overlapMessage(first, second, nsgName),
        otherPolicyKey: second.policyKey,
      });
      add(out, {
        policyKey: second.policyKey,
        ruleName: "",
        priority,
        message: overlapMessage(second, first, nsgName),
        otherPolicyKey: first.policyKey,
      });
    }
  }
}
