// `drawbridge sweep` flags. Like `run`, each flag may also come from the environment
// (DRAWBRIDGE_<FLAG>, and ARM_ENDPOINT / ARM_CA_FILE / ARM_TOKEN), flags winning; everything is
// checked up front and a bad setting names the flag and what it accepts.
import { ConfigError, armSettings } from "../runtime/config.ts";
import { isValidInstanceId } from "../core/nsg.ts";
import { parseNsgId } from "../azure/ids.ts";
import { parseGoDuration } from "../runtime/duration.ts";

export const SWEEP_LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type SweepLogLevel = (typeof SWEEP_LOG_LEVELS)[number];

export interface SweepConfig {
  /** Subscriptions whose every NSG is swept. */
  subscriptions: string[];
  /** NSG ids swept besides (or instead of) whole subscriptions. */
  nsgIds: string[];
  /** "" (the default instance, rules "drawbridge-...") or the id of a named one. */
  instanceId: string;
  /** How long past its stated expiry a rule is left for the operator before the sweep removes it. */
  graceMs: number;
  armEndpoint: string | undefined;
  armCaFile: string | undefined;
  armToken: string | undefined;
  dryRun: boolean;
  logLevel: SweepLogLevel;
}

export class SweepConfigError extends Error {
  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = "SweepConfigError";
  }
}

interface Flag {
  name: string;
  help: string;
  env?: string[];
  def?: string;
  boolean?: boolean;
  repeatable?: boolean;
}

const MAX_GRACE_MS = 86_400_000;

export const SWEEP_FLAGS: readonly Flag[] = [
  {
    name: "subscription",
    repeatable: true,
    help: "subscription id whose NSGs are swept (repeatable, or a comma list)",
  },
  { name: "nsg", repeatable: true, help: "NSG id to sweep (repeatable, or a comma list)" },
  {
    name: "instance-id",
    help: 'whose rules: "" = the default instance ("drawbridge-..."), else 1..12 of [a-z0-9]',
  },
  {
    name: "grace",
    def: "60s",
    help: "leave a rule this long past its stated expiry, for the operator to remove (Go duration, <= 24h)",
  },
  { name: "arm-endpoint", env: ["ARM_ENDPOINT"], help: "ARM base URL, e.g. the emulator (default: Azure)" },
  { name: "arm-ca-file", env: ["ARM_CA_FILE"], help: "PEM CA bundle trusted for --arm-endpoint" },
  {
    name: "arm-token",
    env: ["ARM_TOKEN"],
    help: 'static bearer token for --arm-endpoint (default "emulator-token")',
  },
  { name: "dry-run", def: "false", boolean: true, help: "log what would be deleted, delete nothing" },
  { name: "log-level", def: "info", help: SWEEP_LOG_LEVELS.join(" | ") },
];

function envName(flag: string): string {
  return `DRAWBRIDGE_${flag.toUpperCase().replaceAll("-", "_")}`;
}

export function sweepUsage(): string {
  const lines = SWEEP_FLAGS.map((f) => {
    const envs = [envName(f.name), ...(f.env ?? [])].join(", ");
    const def = f.def === undefined ? "" : ` (default ${f.def})`;
    return `  --${f.name.padEnd(14)} ${f.help}${def}\n  ${"".padEnd(16)} env: ${envs}`;
  });
  return (
    "usage: drawbridge sweep [flags]\n\n" +
    "Deletes this instance's allow rules whose stated expiry (plus --grace) has passed, in the NSGs of\n" +
    "the given subscriptions and/or the given NSGs. Needs no Kubernetes.\n\n" +
    `flags:\n${lines.join("\n")}\n`
  );
}

/** Flag values by name; repeatable flags collect every occurrence. */
function splitArgv(argv: string[]): Map<string, string[]> {
  const known = new Map(SWEEP_FLAGS.map((f) => [f.name, f]));
  const out = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) {
      throw new SweepConfigError(arg, "unexpected argument; flags look like --name=value");
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const spec = known.get(name);
    if (spec === undefined) throw new SweepConfigError(`--${name}`, "unknown flag (see --help)");
    let value = eq < 0 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      const next = argv[i + 1];
      if (spec.boolean === true && (next === undefined || next.startsWith("--"))) value = "true";
      else if (next === undefined) throw new SweepConfigError(`--${name}`, "needs a value");
      else {
        value = next;
        i++;
      }
    }
    if (spec.repeatable !== true && out.has(name)) {
      throw new SweepConfigError(`--${name}`, "given more than once");
    }
    out.set(name, [...(out.get(name) ?? []), value]);
  }
  return out;
}

function bool(flag: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === "true" || v === "1" || v === "yes") return true;
  if (v === "false" || v === "0" || v === "no") return false;
  throw new SweepConfigError(flag, `"${value}" must be true or false`);
}

function list(values: string[]): string[] {
  return values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function subscriptions(values: string[]): string[] {
  for (const s of values) {
    if (!GUID.test(s))
      throw new SweepConfigError("--subscription", `"${s}" is not a subscription id (a GUID)`);
  }
  return [...new Map(values.map((s) => [s.toLowerCase(), s])).values()];
}

function nsgIds(values: string[]): string[] {
  for (const id of values) {
    try {
      parseNsgId(id);
    } catch (err) {
      throw new SweepConfigError("--nsg", err instanceof Error ? err.message : String(err));
    }
  }
  return [...new Map(values.map((id) => [id.toLowerCase(), id])).values()];
}

/** The operator's own ARM settings check, with the sweep's error type. */
function arm(
  get: (n: string) => string | undefined,
): Pick<SweepConfig, "armEndpoint" | "armCaFile" | "armToken"> {
  try {
    return armSettings(get);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new SweepConfigError(err.flag, err.message.slice(err.flag.length + 2));
    throw err;
  }
}

/** Flags beat DRAWBRIDGE_* variables, which beat the conventional names, which beat defaults. */
export function parseSweepConfig(argv: string[], env: Record<string, string | undefined>): SweepConfig {
  const flags = splitArgv(argv);
  const all = (name: string): string[] => {
    const given = flags.get(name);
    if (given !== undefined) return given;
    const spec = SWEEP_FLAGS.find((f) => f.name === name);
    for (const e of [envName(name), ...(spec?.env ?? [])]) {
      const v = env[e];
      if (v !== undefined && v !== "") return [v];
    }
    return spec?.def === undefined ? [] : [spec.def];
  };
  const get = (name: string): string | undefined => all(name)[0];
  const subs = subscriptions(list(all("subscription")));
  const nsgs = nsgIds(list(all("nsg")));
  if (subs.length === 0 && nsgs.length === 0) {
    throw new SweepConfigError("--subscription", "give at least one --subscription or --nsg to sweep");
  }
  const instanceId = get("instance-id") ?? "";
  if (!isValidInstanceId(instanceId)) {
    throw new SweepConfigError(
      "--instance-id",
      `"${instanceId}" must be 1..12 characters of a-z and 0-9 (or empty for the default instance)`,
    );
  }
  const graceText = get("grace") ?? "60s";
  const graceMs = parseGoDuration(graceText);
  if (graceMs === undefined || graceMs > MAX_GRACE_MS) {
    throw new SweepConfigError("--grace", `"${graceText}" must be a duration like 30s or 5m, at most 24h`);
  }
  const logLevel = SWEEP_LOG_LEVELS.find((l) => l === get("log-level"));
  if (logLevel === undefined) {
    throw new SweepConfigError(
      "--log-level",
      `"${get("log-level") ?? ""}" is not one of ${SWEEP_LOG_LEVELS.join(", ")}`,
    );
  }
  return {
    subscriptions: subs,
    nsgIds: nsgs,
    instanceId,
    graceMs,
    ...arm(get),
    dryRun: bool("--dry-run", get("dry-run") ?? "false"),
    logLevel,
  };
}

export function wantsHelp(argv: string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}
