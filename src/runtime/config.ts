// Operator configuration: every flag can also come from the environment (DRAWBRIDGE_<FLAG>, plus
// KUBECONFIG / ARM_ENDPOINT / ARM_CA_FILE / ARM_TOKEN), so the same image works from a shell, a
// Deployment or a test harness. Everything is validated up front: the operator refuses to start
// with a ConfigError naming the flag and what it accepts, rather than failing later mid-reconcile.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { isValidInstanceId } from "../core/nsg.ts";
import { parseGoDuration } from "./duration.ts";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const WRITE_MODES = ["rule", "nsg"] as const;
export type WriteMode = (typeof WRITE_MODES)[number];

export interface Config {
  /** Path of a kubeconfig; undefined means in-cluster service-account config. */
  kubeconfig: string | undefined;
  /** ARM base URL (the emulator); undefined means public Azure with DefaultAzureCredential. */
  armEndpoint: string | undefined;
  armCaFile: string | undefined;
  /** Static bearer token for the emulator; set (default "emulator-token") only with armEndpoint. */
  armToken: string | undefined;
  writeMode: WriteMode;
  resyncIntervalMs: number;
  /** Namespace to watch; undefined means all namespaces. */
  namespace: string | undefined;
  maxConcurrentNsgs: number;
  requestRetentionMs: number;
  /** Retention of Denied requests (never opened, or refused): short, so a flood of them leaves the cache soon. */
  deniedRetentionMs: number;
  /** Open (Pending or Active) requests one spec.requester may hold across the served namespaces. */
  maxOpenRequestsPerRequester: number;
  /** Open (Pending or Active) requests one namespace may hold. */
  maxOpenRequestsPerNamespace: number;
  batchMaxHoldMs: number;
  /** Timeout of one webhook post (JitNotifier). */
  notifyAttemptTimeoutMs: number;
  /** ExpiringSoon notifications go out this long before a grant expires. */
  notifyExpiringLeadMs: number;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** NSG shards, each with its own Lease (ADR 0018); 1 = one leader does everything. */
  shards: number;
  /** host:port or :port; undefined when disabled with "0". */
  metricsBindAddress: string | undefined;
  healthProbeBindAddress: string | undefined;
  logLevel: LogLevel;
  identity: string;
  /**
   * This operator instance's id: "" (the default instance, rules "drawbridge-...") or 1..12 of [a-z0-9]
   * (rules "drawbridge.<id>-..."). An instance writes and deletes only its own rules.
   */
  instanceId: string;
  /** Opt-out for single-team clusters: leave namespaces no JitScope binds unrestricted. */
  allowUnscopedNamespaces: boolean;
  /** Opt-out for single-team clusters: run without checking that the admission guard is installed. */
  allowUnguardedNamespaces: boolean;
  /** JitScopeIndex (in the leader-election namespace) holding the admission policy's scope index; "" disables. */
  scopeIndexName: string;
  /** How long start-up may wait for its prerequisites (namespace, CRDs, RBAC, first lists); 0 = no limit. */
  startupTimeoutMs: number;
  /** Secret (in the leader-election namespace) with the HMAC key that signs what the operator decides. */
  signingSecretName: string;
}

export class ConfigError extends Error {
  /** The flag at fault, e.g. "--write-mode". */
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = "ConfigError";
    this.flag = flag;
  }
}

/** Host facts the defaults depend on; injectable so tests need no pod filesystem. */
export interface ConfigHost {
  /** The pod's namespace (service-account namespace file), undefined outside a pod. */
  podNamespace(): string | undefined;
  hostname(): string;
  pid: number;
}

export const SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

export function systemConfigHost(): ConfigHost {
  return {
    podNamespace: (): string | undefined => {
      try {
        const ns = readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, "utf8").trim();
        return ns === "" ? undefined : ns;
      } catch {
        return undefined;
      }
    },
    hostname: (): string => hostname(),
    pid: process.pid,
  };
}

interface FlagSpec {
  name: string;
  help: string;
  /** Extra env names read after DRAWBRIDGE_<FLAG>, in order. */
  env?: string[];
  def?: string;
  boolean?: boolean;
}

export const FLAGS: readonly FlagSpec[] = [
  { name: "kubeconfig", env: ["KUBECONFIG"], help: "kubeconfig path (default: in-cluster config)" },
  { name: "arm-endpoint", env: ["ARM_ENDPOINT"], help: "ARM base URL, e.g. the emulator (default: Azure)" },
  { name: "arm-ca-file", env: ["ARM_CA_FILE"], help: "PEM CA bundle trusted for --arm-endpoint" },
  {
    name: "arm-token",
    env: ["ARM_TOKEN"],
    help: 'static bearer token for --arm-endpoint (default "emulator-token")',
  },
  { name: "write-mode", def: "rule", help: "rule (PUT/DELETE own rules) | nsg (one If-Match PUT per NSG)" },
  { name: "resync-interval", def: "5m", help: "full re-read of every NSG (Go duration, >= 1s)" },
  { name: "namespace", help: "watch only this namespace (default: all)" },
  { name: "max-concurrent-nsgs", def: "8", help: "NSGs reconciled in parallel (1..1024)" },
  { name: "request-retention", def: "168h", help: "keep terminal AccessRequests this long before deleting" },
  {
    name: "denied-retention",
    def: "1h",
    help: "keep Denied AccessRequests this long before deleting (capped by --request-retention)",
  },
  {
    name: "max-open-requests-per-requester",
    def: "10",
    help: "open (Pending or Active) AccessRequests one requester may hold; more are Denied (1..1000000)",
  },
  {
    name: "max-open-requests-per-namespace",
    def: "200",
    help: "open (Pending or Active) AccessRequests one namespace may hold; more are Denied (1..1000000)",
  },
  {
    name: "batch-max-hold",
    def: "2s",
    help: "cap on how long an NSG write waits for a burst's undecided requests (also capped by one write's duration; 0s disables, <= 10s)",
  },
  { name: "notify-attempt-timeout", def: "5s", help: "timeout of one JitNotifier webhook post (100ms..60s)" },
  {
    name: "notify-expiring-lead",
    def: "5m",
    help: "send ExpiringSoon this long before a grant expires (grants shorter than twice this get none)",
  },
  { name: "leader-elect", def: "true", boolean: true, help: "elect a leader through a Lease" },
  {
    name: "leader-election-namespace",
    help: "Lease namespace (default: pod namespace or drawbridge-system)",
  },
  { name: "leader-election-id", def: "drawbridge-leader", help: "Lease name" },
  { name: "lease-duration", def: "15s", help: "how long a non-renewed Lease stays valid" },
  { name: "renew-deadline", def: "10s", help: "leader gives up if it cannot renew within this" },
  { name: "retry-period", def: "2s", help: "interval between acquire/renew attempts" },
  {
    name: "shards",
    def: "1",
    help: "NSG shards over the replicas, one Lease each (1..64; 1 = one leader does everything; > 1 needs --leader-elect)",
  },
  { name: "metrics-bind-address", def: ":8080", help: 'Prometheus /metrics address ("0" disables)' },
  { name: "health-probe-bind-address", def: ":8081", help: '/healthz and /readyz address ("0" disables)' },
  { name: "log-level", def: "info", help: LOG_LEVELS.join(" | ") },
  { name: "identity", help: "leader-election identity (default: hostname-pid)" },
  {
    name: "instance-id",
    help: 'operator instance sharing NSGs with others: 1..12 of [a-z0-9], rules "drawbridge.<id>-..." ("" = the default instance, rules "drawbridge-...")',
  },
  {
    name: "allow-unscoped-namespaces",
    def: "false",
    boolean: true,
    help: "opt-out for single-team clusters: namespaces no JitScope binds may target anything",
  },
  {
    name: "allow-unguarded-namespaces",
    def: "false",
    boolean: true,
    help: "opt-out for single-team clusters: do not require the admission guard",
  },
  {
    name: "startup-timeout",
    def: "3m",
    help: "how long start-up waits for the Lease namespace, CRDs, RBAC and first lists before exiting with code 3 (0s: no limit)",
  },
  {
    name: "scope-index-name",
    def: "drawbridge-scope-index",
    help: 'JitScopeIndex in the leader-election namespace the scope admission policy reads ("" disables)',
  },
  {
    name: "signing-secret-name",
    def: "drawbridge-signing-key",
    help: "Secret in the leader-election namespace holding the key that signs approvals and resolved targets (created when absent)",
  },
];

/** Upper-snake environment name of a flag: arm-ca-file -> DRAWBRIDGE_ARM_CA_FILE. */
export function envName(flag: string): string {
  return `DRAWBRIDGE_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** `--help` text listing every flag, its environment variable and its default. */
export function usageText(): string {
  const lines = FLAGS.map((f) => {
    const envs = [envName(f.name), ...(f.env ?? [])].join(", ");
    const def = f.def === undefined ? "" : ` (default ${f.def})`;
    return `  --${f.name.padEnd(27)} ${f.help}${def}\n  ${"".padEnd(29)} env: ${envs}`;
  });
  return `usage: drawbridge run [flags]\n\nflags:\n${lines.join("\n")}\n`;
}

/** The value of a flag given without "=": the next argument, or "true" for a bare boolean. */
function separateValue(spec: FlagSpec, argv: string[], i: number): { value: string; consumed: boolean } {
  const next = argv[i + 1];
  if (spec.boolean === true && (next === undefined || next.startsWith("--")))
    return { value: "true", consumed: false };
  if (next === undefined) throw new ConfigError(`--${spec.name}`, "needs a value");
  return { value: next, consumed: true };
}

function splitArgv(argv: string[]): Map<string, string> {
  const known = new Map(FLAGS.map((f) => [f.name, f]));
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--"))
      throw new ConfigError(arg, "unexpected argument; flags look like --name=value");
    const eq = arg.indexOf("=");
    let name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let value = eq < 0 ? undefined : arg.slice(eq + 1);
    if (value === undefined && name.startsWith("no-") && known.get(name.slice(3))?.boolean === true) {
      name = name.slice(3);
      value = "false";
    }
    const spec = known.get(name);
    if (spec === undefined) throw new ConfigError(`--${name}`, "unknown flag (see --help)");
    if (value === undefined) {
      const sep = separateValue(spec, argv, i);
      value = sep.value;
      if (sep.consumed) i++;
    }
    out.set(name, value);
  }
  return out;
}

function raw(
  name: string,
  flags: Map<string, string>,
  env: Record<string, string | undefined>,
): string | undefined {
  const spec = FLAGS.find((f) => f.name === name);
  const fromFlag = flags.get(name);
  if (fromFlag !== undefined) return fromFlag;
  for (const e of [envName(name), ...(spec?.env ?? [])]) {
    const v = env[e];
    if (v !== undefined && v !== "") return v;
  }
  return spec?.def;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const hit = allowed.find((a) => a === value);
  if (hit === undefined) throw new ConfigError(flag, `"${value}" is not one of ${allowed.join(", ")}`);
  return hit;
}

function duration(flag: string, value: string, minMs: number, maxMs = Number.MAX_SAFE_INTEGER): number {
  const ms = parseGoDuration(value);
  if (ms === undefined) throw new ConfigError(flag, `"${value}" is not a duration like 30s, 5m or 1h`);
  if (ms < minMs || ms > maxMs) throw new ConfigError(flag, `${value} is outside ${minMs}ms..${maxMs}ms`);
  return ms;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(flag, `"${value}" must be an integer in ${min}..${max}`);
  }
  return n;
}

function bool(flag: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === "true" || v === "1" || v === "yes") return true;
  if (v === "false" || v === "0" || v === "no") return false;
  throw new ConfigError(flag, `"${value}" must be true or false`);
}

/** "0" disables; otherwise [host]:port with port 0..65535 (0 = any free port, for tests). */
function bindAddress(flag: string, value: string): string | undefined {
  if (value === "0") return undefined;
  const m = /^(.*):(\d{1,5})$/.exec(value);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535 || /[\s/]/.test(m[1] ?? "")) {
    throw new ConfigError(flag, `"${value}" must be host:port, :port, or 0 to disable`);
  }
  return value;
}

function dnsLabel(flag: string, value: string, max: number): string {
  if (value.length > max || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value)) {
    throw new ConfigError(
      flag,
      `"${value}" is not a valid Kubernetes name (lowercase a-z0-9 . -, <= ${max})`,
    );
  }
  return value;
}

/** "" or 1..12 of [a-z0-9]: no "-" or ".", so no instance's rule prefix is the start of another's. */
function instanceId(value: string): string {
  if (isValidInstanceId(value)) return value;
  throw new ConfigError(
    "--instance-id",
    `"${value}" must be 1..12 characters of a-z and 0-9 (or empty for the default instance)`,
  );
}

/** The ARM endpoint, CA and static token, checked together (also used by `drawbridge sweep`). */
export function armSettings(
  get: (n: string) => string | undefined,
): Pick<Config, "armEndpoint" | "armCaFile" | "armToken"> {
  const armEndpoint = get("arm-endpoint");
  const armCaFile = get("arm-ca-file");
  let armToken = get("arm-token");
  if (armEndpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(armEndpoint);
    } catch {
      throw new ConfigError("--arm-endpoint", `"${armEndpoint}" is not a URL`);
    }
    if (url.protocol !== "https:")
      throw new ConfigError("--arm-endpoint", `"${armEndpoint}" must be an https:// URL`);
    armToken ??= "emulator-token";
  } else {
    // A static token is only ever sent to an explicitly configured endpoint, never to public Azure.
    if (armToken !== undefined)
      throw new ConfigError("--arm-token", "is only allowed together with --arm-endpoint");
    if (armCaFile !== undefined)
      throw new ConfigError("--arm-ca-file", "is only allowed together with --arm-endpoint");
  }
  return { armEndpoint, armCaFile, armToken };
}

function leaderTimings(
  get: (n: string) => string,
): Pick<Config, "leaseDurationMs" | "renewDeadlineMs" | "retryPeriodMs"> {
  const leaseDurationMs = duration("--lease-duration", get("lease-duration"), 1000);
  const renewDeadlineMs = duration("--renew-deadline", get("renew-deadline"), 500);
  const retryPeriodMs = duration("--retry-period", get("retry-period"), 100);
  if (renewDeadlineMs >= leaseDurationMs) {
    throw new ConfigError("--renew-deadline", "must be shorter than --lease-duration");
  }
  if (retryPeriodMs * 1.2 >= renewDeadlineMs) {
    throw new ConfigError(
      "--retry-period",
      "must be well below --renew-deadline (retry-period * 1.2 < renew-deadline)",
    );
  }
  return { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

/**
 * Build the Config from command-line flags and environment. Flags beat DRAWBRIDGE_* variables,
 * which beat the conventional names (KUBECONFIG, ARM_ENDPOINT, ...), which beat defaults.
 * Throws ConfigError on the first invalid or unknown setting.
 */
export function parseConfig(
  argv: string[],
  env: Record<string, string | undefined>,
  host: ConfigHost = systemConfigHost(),
): Config {
  const flags = splitArgv(argv);
  const get = (n: string): string | undefined => raw(n, flags, env);
  const must = (n: string): string => get(n) ?? "";
  const namespace = get("namespace");
  const electionNs = get("leader-election-namespace") ?? host.podNamespace() ?? "drawbridge-system";
  const identity = get("identity") ?? `${host.hostname()}-${host.pid}`;
  if (identity.length > 128) throw new ConfigError("--identity", "must be at most 128 characters");
  return {
    kubeconfig: get("kubeconfig"),
    ...armSettings(get),
    writeMode: oneOf("--write-mode", must("write-mode"), WRITE_MODES),
    resyncIntervalMs: duration("--resync-interval", must("resync-interval"), 1000),
    namespace: namespace === undefined ? undefined : dnsLabel("--namespace", namespace, 63),
    maxConcurrentNsgs: integer("--max-concurrent-nsgs", must("max-concurrent-nsgs"), 1, 1024),
    ...requestLimits(must),
    batchMaxHoldMs: duration("--batch-max-hold", must("batch-max-hold"), 0, 10_000),
    notifyAttemptTimeoutMs: duration("--notify-attempt-timeout", must("notify-attempt-timeout"), 100, 60_000),
    notifyExpiringLeadMs: duration("--notify-expiring-lead", must("notify-expiring-lead"), 1000, 86_400_000),
    leaderElect: bool("--leader-elect", must("leader-elect")),
    leaderElectionNamespace: dnsLabel("--leader-election-namespace", electionNs, 63),
    leaderElectionId: dnsLabel("--leader-election-id", must("leader-election-id"), 253),
    ...leaderTimings(must),
    shards: shardCount(must("shards"), must("leader-elect")),
    metricsBindAddress: bindAddress("--metrics-bind-address", must("metrics-bind-address")),
    healthProbeBindAddress: bindAddress("--health-probe-bind-address", must("health-probe-bind-address")),
    logLevel: oneOf("--log-level", must("log-level"), LOG_LEVELS),
    identity,
    instanceId: instanceId(get("instance-id") ?? ""),
    allowUnscopedNamespaces: bool("--allow-unscoped-namespaces", must("allow-unscoped-namespaces")),
    allowUnguardedNamespaces: bool("--allow-unguarded-namespaces", must("allow-unguarded-namespaces")),
    scopeIndexName: scopeIndexName(must("scope-index-name")),
    startupTimeoutMs: duration("--startup-timeout", must("startup-timeout"), 0, 86_400_000),
    signingSecretName: dnsLabel("--signing-secret-name", must("signing-secret-name"), 253),
  };
}

function requestLimits(
  get: (n: string) => string,
): Pick<
  Config,
  "requestRetentionMs" | "deniedRetentionMs" | "maxOpenRequestsPerRequester" | "maxOpenRequestsPerNamespace"
> {
  const requestRetentionMs = duration("--request-retention", get("request-retention"), 0);
  // Capped rather than refused: lowering --request-retention alone must not stop the operator.
  const deniedRetentionMs = Math.min(
    duration("--denied-retention", get("denied-retention"), 0),
    requestRetentionMs,
  );
  return {
    requestRetentionMs,
    deniedRetentionMs,
    maxOpenRequestsPerRequester: integer(
      "--max-open-requests-per-requester",
      get("max-open-requests-per-requester"),
      1,
      1_000_000,
    ),
    maxOpenRequestsPerNamespace: integer(
      "--max-open-requests-per-namespace",
      get("max-open-requests-per-namespace"),
      1,
      1_000_000,
    ),
  };
}

function shardCount(value: string, leaderElect: string): number {
  const shards = integer("--shards", value, 1, 64);
  if (shards > 1 && !bool("--leader-elect", leaderElect))
    throw new ConfigError("--shards", `${String(shards)} shards need --leader-elect (each shard is a Lease)`);
  return shards;
}

function scopeIndexName(value: string): string {
  return value === "" ? "" : dnsLabel("--scope-index-name", value, 253);
}

/** True when argv asks for help; checked before parseConfig so --help never fails validation. */
export function wantsHelp(argv: string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}
