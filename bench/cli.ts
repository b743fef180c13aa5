// `npm run bench -- [--quick] [--only latency,burst,resync,planner] [--out DIR]`: runs the
// benchmarks of docs/performance.md (Targets) on the real stack (control plane + emulator process + operator process)
// and writes DIR/latest.json and DIR/latest.md (default bench/results). Exits non-zero only when
// the harness fails or a scenario cannot complete; missed targets are printed, not fatal.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { summarizeDir } from "./cpu-profile.ts";
import type { ProfileSummary } from "./cpu-profile.ts";
import { currentLoad, machine } from "./machine.ts";
import { runPlannerBenchIsolated } from "./planner.ts";
import { Reaper, ROOT } from "./procs.ts";
import { FULL, QUICK } from "./profiles.ts";
import type { Profile } from "./profiles.ts";
import { assess, buildResults, renderMarkdown } from "./report.ts";
import type { Results, ScenarioOutcomes } from "./report.ts";
import { runBurst } from "./scenarios/burst.ts";
import { parseEstateSizes, runEstate } from "./scenarios/estate.ts";
import { runLatency } from "./scenarios/latency.ts";
import { runResync } from "./scenarios/resync.ts";
import { parseShardSize, runShards } from "./scenarios/shards.ts";
import { startStack } from "./stack.ts";
import type { Stack } from "./stack.ts";

const SCENARIOS = ["planner", "latency", "burst", "resync", "estate", "shards"] as const;
type Scenario = (typeof SCENARIOS)[number];
/** A quick run's scenarios without --only; a full run runs them all (ten times the estate included). */
const QUICK_SCENARIOS: Scenario[] = ["planner", "latency", "burst", "resync"];

const USAGE = `usage: npm run bench -- [--quick] [--only ${SCENARIOS.join(",")}] [--out DIR] [--cpu-prof DIR] [--from-sources]
  --quick   scaled-down smoke run (CI); default: the full run of docs/performance.md
  --only    run only these scenarios (comma-separated; default: all in a full run, all but
            estate and shards in a quick one)
  --out     results directory (default bench/results)
  --merge   keep the scenarios of DIR/latest.json that this run does not repeat (a full run
            taken in parts, e.g. --only resync first, then the rest)
  --estate-sizes N/G[/H][,...]  the estate scenario's sizes (NSGs/grants over 8 subscriptions; H: operator heap MiB)
  --shard-size N/G[/S[/H]]  the shards scenario's estate: NSGs/grants over S subscriptions (default 8)
            instead of the profile's; H: each replica's heap MiB (default 1024 from 10,000 NSGs)
  --shard-replicas N,N  the replica counts the shards scenario runs (default 1,2,4), e.g. 4 to
            repeat only that one on a large estate
  --concurrency N,N  the latency scenario's concurrent requests instead of the profile's
            (e.g. --quick --only latency --concurrency 100)
  --bare-requests  the latency scenario creates requests without drawbridge's finalizer (the
            operator then adds it: one more write each); default: as the CLI creates them
  --cpu-prof DIR  run every operator with node --cpu-prof (profiles in DIR/<namespace>/) and
            add a self-time summary per operator to the results; the operators then run
            from the TypeScript sources, not the bundle, so profiles name files and packages
  --from-sources  run the operators from the TypeScript sources (bin/drawbridge.js) instead of
            the image's bundle (dist/drawbridge.js), e.g. to compare their memory
`;

interface Args {
  profile: Profile;
  only: Scenario[];
  out: string;
  cpuProfDir: string | undefined;
  merge: boolean;
  fromSources: boolean;
}

function parse(args: string[]): Args {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean" },
      only: { type: "string" },
      out: { type: "string" },
      "cpu-prof": { type: "string" },
      concurrency: { type: "string" },
      "bare-requests": { type: "boolean" },
      merge: { type: "boolean" },
      "from-sources": { type: "boolean" },
      "estate-sizes": { type: "string" },
      "shard-size": { type: "string" },
      "shard-replicas": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help === true) throw new HelpRequested();
  // A quick run leaves out the estate and sharding scenarios unless asked for (its CI budget).
  const defaults: Scenario[] = values.quick === true ? QUICK_SCENARIOS : [...SCENARIOS];
  const only = (values.only ?? defaults.join(",")).split(",").map((s) => s.trim());
  for (const s of only) {
    if (!SCENARIOS.some((k) => k === s))
      throw new Error(`--only: unknown scenario "${s}" (one of ${SCENARIOS.join(", ")})`);
  }
  const base = values.quick === true ? QUICK : FULL;
  const sizes = values["estate-sizes"];
  const estateSized = sizes === undefined ? base : { ...base, estate: parseEstateSizes(sizes) };
  const shardSize = values["shard-size"];
  const shardSized =
    shardSize === undefined
      ? estateSized
      : { ...estateSized, shards: parseShardSize(shardSize, estateSized.shards) };
  const replicas = values["shard-replicas"];
  const sized =
    replicas === undefined
      ? shardSized
      : { ...shardSized, shards: { ...shardSized.shards, replicas: parseShardReplicas(replicas) } };
  const concurrent = values.concurrency === undefined ? sized : withConcurrency(sized, values.concurrency);
  return {
    profile:
      values["bare-requests"] === true
        ? { ...concurrent, latency: { ...concurrent.latency, bareRequests: true } }
        : concurrent,
    only: only as Scenario[],
    out: values.out ?? join(ROOT, "bench", "results"),
    cpuProfDir: values["cpu-prof"] === undefined ? undefined : resolve(values["cpu-prof"]),
    merge: values.merge === true,
    fromSources: values["from-sources"] === true,
  };
}

function parseShardReplicas(text: string): number[] {
  const replicas = text.split(",").map((x) => Number(x.trim()));
  if (replicas.some((n) => !Number.isInteger(n) || n < 1 || n > 16))
    throw new Error(`--shard-replicas: "${text}" must be whole numbers from 1 to 16, comma-separated`);
  return replicas;
}

function withConcurrency(p: Profile, text: string): Profile {
  const concurrency = text.split(",").map((x) => Number(x.trim()));
  if (concurrency.some((n) => !Number.isInteger(n) || n < 1 || n > 1000))
    throw new Error(`--concurrency: "${text}" must be whole numbers from 1 to 1000, comma-separated`);
  return { ...p, latency: { ...p.latency, concurrency } };
}

class HelpRequested extends Error {}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function runScenario(name: string, outcomes: ScenarioOutcomes, fn: () => Promise<void>): Promise<void> {
  const started = Date.now();
  outcomes.load[name] = currentLoad();
  try {
    await fn();
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    outcomes.errors[name] = message.slice(0, 20_000);
    log(`${name} FAILED: ${message}`);
  } finally {
    outcomes.seconds[name] = Math.round((Date.now() - started) / 100) / 10;
  }
}

async function runAll(a: Args, outcomes: ScenarioOutcomes, reaper: Reaper): Promise<void> {
  const p = a.profile;
  if (a.only.includes("planner")) {
    await runScenario("planner", outcomes, async () => {
      outcomes.planner = await runPlannerBenchIsolated(p.plannerIterations);
      const r = outcomes.planner;
      log(
        `planner: ${r.msPerPlan.toFixed(3)} ms (${r.cpuMsPerPlan.toFixed(3)} ms CPU) per plan, ${r.rules} rules`,
      );
    });
  }
  if (!a.only.some((s) => s !== "planner")) return;
  let stack: Stack | undefined;
  await runScenario("stack", outcomes, async () => {
    stack = await startStack(reaper, log, a.cpuProfDir, a.fromSources);
  });
  if (stack === undefined) return;
  const s = stack;
  if (a.only.includes("latency"))
    await runScenario("latency", outcomes, async () => {
      outcomes.latency = await runLatency(s, p.latency);
    });
  if (a.only.includes("burst"))
    await runScenario("burst", outcomes, async () => {
      outcomes.burst = await runBurst(s, p.burst);
    });
  if (a.only.includes("resync"))
    await runScenario("resync", outcomes, async () => {
      outcomes.resync = await runResync(s, p.resync);
    });
  if (a.only.includes("estate"))
    await runScenario("estate", outcomes, async () => {
      outcomes.estate = { sizes: [] };
      await runEstate(s, p.estate, currentLoad, outcomes.estate);
    });
  if (a.only.includes("shards"))
    await runScenario("shards", outcomes, async () => {
      outcomes.shards = await runShards(s, p.shards);
    });
}

/** Fill the scenarios this run skipped from an earlier run of the same profile. */
function mergePrevious(file: string, a: Args, outcomes: ScenarioOutcomes): void {
  if (!existsSync(file)) return;
  const prev = JSON.parse(readFileSync(file, "utf8")) as Results;
  if (prev.profile !== a.profile.name) {
    log(`--merge: ${file} is a ${prev.profile} run; not merged`);
    return;
  }
  for (const name of SCENARIOS) {
    if (a.only.includes(name)) continue;
    const value = prev.scenarios[name];
    if (value === undefined) continue;
    (outcomes as unknown as Record<string, unknown>)[name] = value;
    const seconds = prev.scenario_seconds[name];
    if (seconds !== undefined) outcomes.seconds[name] = seconds;
    const load = prev.scenario_load[name];
    if (load !== undefined) outcomes.load[name] = load;
    log(`--merge: kept ${name} from the run of ${prev.generated_at}`);
  }
}

function profileSummaries(dir: string): Record<string, ProfileSummary[]> {
  const out: Record<string, ProfileSummary[]> = {};
  if (!existsSync(dir)) return out;
  for (const ns of readdirSync(dir)) {
    try {
      out[ns] = summarizeDir(join(dir, ns));
    } catch (err) {
      log(`cannot summarize the profiles in ${join(dir, ns)}: ${String(err)}`);
    }
  }
  return out;
}

export async function run(args: string[]): Promise<number> {
  let a: Args;
  try {
    a = parse(args);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const started = Date.now();
  const m = machine();
  log(`${a.profile.name} run on ${m.cpus} x ${m.model}, load average ${m.loadavg_start.join(" ")}`);
  const outcomes: ScenarioOutcomes = { errors: {}, seconds: {}, load: {} };
  const reaper = new Reaper();
  try {
    await runAll(a, outcomes, reaper);
  } finally {
    await reaper.stopAll();
  }
  m.loadavg_end = currentLoad();
  if (a.cpuProfDir !== undefined) outcomes.profiles = profileSummaries(a.cpuProfDir);
  if (a.merge) mergePrevious(join(a.out, "latest.json"), a, outcomes);
  const results = buildResults(a.profile, m, outcomes, (Date.now() - started) / 1000);
  mkdirSync(a.out, { recursive: true });
  writeFileSync(join(a.out, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(a.out, "latest.md"), renderMarkdown(results));
  const checks = assess(results);
  for (const c of checks)
    log(`${c.pass ? "met   " : "MISSED"} ${c.measure}: ${c.value} (target ${c.target})`);
  log(`results in ${join(a.out, "latest.json")} and latest.md after ${results.total_seconds} s`);
  const failed = Object.keys(outcomes.errors);
  if (failed.length > 0) {
    log(`harness/scenario failures: ${failed.join(", ")}`);
    return 1;
  }
  return 0;
}
