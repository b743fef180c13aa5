// The estate scenario in the results: its checks, the headline curve and the markdown table. Every
// size must write nothing when converged (at start-up or in a resync) and never meet ARM's
// throttle; the read, CPU and memory targets apply at the ten-times estate (>= 20,000 NSGs).
import type { Check } from "./report.ts";
import type { EstateResults, EstateRun } from "./scenarios/estate.ts";

/** The NSG count from which the ten-times targets apply. */
export const TEN_TIMES_NSGS = 20_000;

export interface CurvePoint {
  nsgs: number;
  grants: number;
  subscriptions: number;
  reads: number;
  naive_reads: number;
  writes: number;
  cpu_s: number;
  peak_rss_mib: number;
  startup_s: number;
  throttled: number;
}

export function estateCurve(e: EstateResults | undefined): CurvePoint[] | null {
  if (e === undefined) return null;
  return e.sizes.map((r) => ({
    nsgs: r.nsgs,
    grants: r.grants,
    subscriptions: r.subscriptions,
    reads: r.reads,
    naive_reads: r.naive.reads,
    writes: r.writes,
    cpu_s: r.cpu_s,
    peak_rss_mib: r.peak_rss_mib,
    startup_s: r.startup.seconds,
    throttled: r.throttled.reads + r.throttled.writes,
  }));
}

function sizeChecks(r: EstateRun): Check[] {
  const at = `estate ${r.nsgs} NSGs / ${r.grants} grants / ${r.subscriptions} subscriptions`;
  const out: Check[] = [
    { measure: `resync writes, ${at}`, value: String(r.writes), target: "0", pass: r.writes === 0 },
    {
      measure: `start-up writes, ${at}`,
      value: `${r.startup.writes} (${r.startup.active_grants} grants active)`,
      target: `0 (${r.grants} active)`,
      pass: r.startup.writes === 0 && r.startup.active_grants === r.grants,
    },
    {
      measure: `ARM throttled (429) reads / writes over the scenario, ${at}`,
      value: `${r.throttled.reads} / ${r.throttled.writes}`,
      target: "0 / 0",
      pass: r.throttled.reads === 0 && r.throttled.writes === 0,
    },
  ];
  if (r.nsgs < TEN_TIMES_NSGS) return out;
  const maxReads = Math.floor(r.nsgs / 50);
  out.push(
    {
      measure: `resync reads, ${at}`,
      value: String(r.reads),
      target: `<= ${maxReads}`,
      pass: r.reads <= maxReads,
    },
    { measure: `resync CPU, ${at}`, value: `${r.cpu_s} s`, target: "<= 10 s", pass: r.cpu_s <= 10 },
    {
      measure: `operator peak RSS, ${at}`,
      value: `${r.peak_rss_mib} MiB`,
      target: "<= 512 MiB",
      pass: r.peak_rss_mib <= 512,
    },
  );
  return out;
}

export function estateChecks(e: EstateResults): Check[] {
  return e.sizes.flatMap(sizeChecks);
}

export function estateTable(e: EstateResults): string[] {
  return [
    "| NSGs / grants / subs | reads (naive) | writes | resync CPU | RSS now (peak) | start-up: s / reads / writes / CPU | 429 reads / writes | seeding requests | wall | load |",
    "|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ...e.sizes.map(
      (r) =>
        `| ${r.nsgs} / ${r.grants} / ${r.subscriptions} | ${r.reads} (${r.naive.reads}) | ${r.writes} | ${r.cpu_s} s | ${r.rss_mib} MiB (${r.peak_rss_mib} MiB) | ${r.startup.seconds} s / ${r.startup.reads} / ${r.startup.writes} / ${r.startup.cpu_s} s | ${r.throttled.reads} / ${r.throttled.writes} | ${r.seed.request_seconds} s (${r.seed.requests_per_s}/s) | ${r.wall_seconds} s | ${r.load.join(" ")} |`,
    ),
  ];
}
