// BaselineShadowed: a foreign Inbound Allow with a lower priority number than a baseline deny that
// covers one of the deny's ports and destinations lets traffic in whatever drawbridge grants.
import { parsePrefix, prefixesOverlap } from "./cidr.ts";
import type { SecurityRule } from "./nsg.ts";
import type { DenySlot } from "./plan-context.ts";
import { ruleDestinationPorts, ruleDestinations } from "./rules.ts";
import type { ShadowedBaseline } from "./types.ts";

/** Destinations that mean "every address of the network" for this purpose. */
const ANY_DESTINATION = new Set(["*", "any", "virtualnetwork"]);

interface ForeignAllow {
  rule: SecurityRule;
  ranges: [number, number][];
  anyDestination: boolean;
  destinations: string[];
}

function portRanges(texts: string[]): [number, number][] {
  const out: [number, number][] = [];
  for (const t of texts) {
    if (t === "*") out.push([0, 65535]);
    const m = /^(\d+)(?:-(\d+))?$/.exec(t);
    if (m !== null) out.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }
  return out;
}

/**
 * Foreign Inbound Allow rules that can carry TCP or UDP, sorted by priority; only those below
 * `below` (findShadowed never looks at an allow behind every deny).
 */
export function foreignAllows(foreignInbound: SecurityRule[], below = Infinity): ForeignAllow[] {
  // Sorted by priority: the ones in front of `below` are a leading run.
  let end = 0;
  while (end < foreignInbound.length && (foreignInbound[end]?.priority ?? Infinity) < below) end++;
  return foreignInbound
    .slice(0, end)
    .filter(
      (r) => r.access === "Allow" && (r.protocol === "*" || r.protocol === "Tcp" || r.protocol === "Udp"),
    )
    .map((rule) => {
      const dests = ruleDestinations(rule);
      return {
        rule,
        ranges: portRanges(ruleDestinationPorts(rule)),
        anyDestination: dests.some((d) => ANY_DESTINATION.has(d.toLowerCase())),
        destinations: dests.filter((d) => parsePrefix(d).ok),
      };
    });
}

function protocolsMeet(foreign: SecurityRule, deny: SecurityRule): boolean {
  return foreign.protocol === "*" || deny.protocol === "*" || foreign.protocol === deny.protocol;
}

function destinationsMeet(f: ForeignAllow, targets: string[]): boolean {
  return f.anyDestination || f.destinations.some((d) => targets.some((t) => prefixesOverlap(d, t)));
}

/** The highest priority of a placed baseline deny, or -Infinity. */
function highestDeny(slots: DenySlot[]): number {
  let highest = -Infinity;
  for (const s of slots) if (s.rule !== undefined && s.rule.priority > highest) highest = s.rule.priority;
  return highest;
}

/**
 * findShadowed over the foreign Inbound rules (sorted by priority), reading only the foreign allows in
 * front of some deny: usually none, as foreign rules mostly sit above the bands.
 */
export function shadowedBaselines(slots: DenySlot[], foreignInbound: SecurityRule[]): ShadowedBaseline[] {
  return findShadowed(slots, foreignAllows(foreignInbound, highestDeny(slots)));
}

export function findShadowed(slots: DenySlot[], allows: ForeignAllow[]): ShadowedBaseline[] {
  const out: ShadowedBaseline[] = [];
  for (const s of slots) {
    const deny = s.rule;
    if (deny === undefined) continue;
    for (const f of allows) {
      if (f.rule.priority >= deny.priority) break;
      if (!protocolsMeet(f.rule, deny) || !destinationsMeet(f, s.b.destinations)) continue;
      for (const port of s.ports) {
        if (!f.ranges.some(([lo, hi]) => port >= lo && port <= hi)) continue;
        out.push({
          policyKey: s.b.policyKey,
          targetId: s.b.targetId,
          ruleName: f.rule.name,
          priority: f.rule.priority,
          port,
          protocol: s.protocol,
          message:
            `foreign rule ${f.rule.name} (Allow, priority ${f.rule.priority}) admits ${port}/${s.protocol} before ` +
            `the baseline deny ${deny.name} (priority ${deny.priority}) of policy ${s.b.policyKey}`,
        });
      }
    }
  }
  return out;
}
