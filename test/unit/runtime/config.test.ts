import { describe, expect, it } from "@jest/globals";
import { ConfigError, envName, parseConfig, usageText } from "../../../src/runtime/config.ts";
import type { ConfigHost } from "../../../src/runtime/config.ts";
import { formatGoDuration, parseGoDuration } from "../../../src/runtime/duration.ts";

const host: ConfigHost = { podNamespace: () => undefined, hostname: () => "node-a", pid: 42 };

function parse(
  argv: string[],
  env: Record<string, string | undefined> = {},
  h = host,
): ReturnType<typeof parseConfig> {
  return parseConfig(argv, env, h);
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("has the documented defaults", () => {
    expect(parse([])).toEqual({
      kubeconfig: undefined,
      armEndpoint: undefined,
      armCaFile: undefined,
      armToken: undefined,
      writeMode: "rule",
      resyncIntervalMs: 300_000,
      namespace: undefined,
      maxConcurrentNsgs: 8,
      requestRetentionMs: 168 * 3_600_000,
      batchMaxHoldMs: 2000,
      notifyAttemptTimeoutMs: 5000,
      notifyExpiringLeadMs: 300_000,
      leaderElect: true,
      leaderElectionNamespace: "drawbridge-system",
      leaderElectionId: "drawbridge-leader",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      shards: 1,
      metricsBindAddress: ":8080",
      healthProbeBindAddress: ":8081",
      logLevel: "info",
      identity: "node-a-42",
      scopeIndexName: "drawbridge-scope-index",
      signingSecretName: "drawbridge-signing-key",
      instanceId: "",
      allowUnscopedNamespaces: false,
      allowUnguardedNamespaces: false,
      startupTimeoutMs: 180_000,
      deniedRetentionMs: 3_600_000,
      maxOpenRequestsPerRequester: 10,
      maxOpenRequestsPerNamespace: 200,
    });
  });

  it("reads --startup-timeout as a duration up to 24h, 0s meaning no limit", () => {
    expect(parse(["--startup-timeout=10s"]).startupTimeoutMs).toBe(10_000);
    expect(parse([], { DRAWBRIDGE_STARTUP_TIMEOUT: "0s" }).startupTimeoutMs).toBe(0);
    for (const bad of ["soon", "25h", "-1s"]) {
      expect(errorOf(() => parse([`--startup-timeout=${bad}`])).flag).toBe("--startup-timeout");
    }
  });

  it("reads --instance-id and refuses an id that could claim another instance's rules", () => {
    expect(parse(["--instance-id=blue2"]).instanceId).toBe("blue2");
    expect(parse([], { DRAWBRIDGE_INSTANCE_ID: "a" }).instanceId).toBe("a");
    expect(parse(["--instance-id="]).instanceId).toBe("");
    expect(parse(["--instance-id=abcdefghijkl"]).instanceId).toBe("abcdefghijkl");
    for (const bad of ["a-b", "Blue", "abcdefghijklm", "a.b", "x_1", " a"]) {
      const e = errorOf(() => parse([`--instance-id=${bad}`]));
      expect(e.flag).toBe("--instance-id");
      expect(e.message).toContain("1..12");
    }
  });

  it("reads the two namespace opt-outs as booleans, off unless asked for", () => {
    const on = parse(["--allow-unscoped-namespaces", "--allow-unguarded-namespaces=true"]);
    expect(on.allowUnscopedNamespaces).toBe(true);
    expect(on.allowUnguardedNamespaces).toBe(true);
    const env = parse([], {
      DRAWBRIDGE_ALLOW_UNSCOPED_NAMESPACES: "yes",
      DRAWBRIDGE_ALLOW_UNGUARDED_NAMESPACES: "0",
    });
    expect(env.allowUnscopedNamespaces).toBe(true);
    expect(env.allowUnguardedNamespaces).toBe(false);
    expect(parse(["--no-allow-unscoped-namespaces"]).allowUnscopedNamespaces).toBe(false);
    expect(errorOf(() => parse(["--allow-unguarded-namespaces=maybe"])).flag).toBe(
      "--allow-unguarded-namespaces",
    );
  });

  it("reads flags in --name=value and --name value forms", () => {
    const c = parse([
      "--write-mode=nsg",
      "--resync-interval",
      "30s",
      "--namespace=team-a",
      "--max-concurrent-nsgs",
      "16",
    ]);
    expect(c.writeMode).toBe("nsg");
    expect(c.resyncIntervalMs).toBe(30_000);
    expect(c.namespace).toBe("team-a");
    expect(c.maxConcurrentNsgs).toBe(16);
  });

  it("reads every flag from DRAWBRIDGE_* env, and flags win over env", () => {
    const env = {
      DRAWBRIDGE_WRITE_MODE: "nsg",
      DRAWBRIDGE_LOG_LEVEL: "debug",
      DRAWBRIDGE_LEADER_ELECT: "false",
      DRAWBRIDGE_METRICS_BIND_ADDRESS: "0",
    };
    const c = parse(["--log-level=warn"], env);
    expect(c.writeMode).toBe("nsg");
    expect(c.logLevel).toBe("warn");
    expect(c.leaderElect).toBe(false);
    expect(c.metricsBindAddress).toBeUndefined();
    expect(envName("arm-ca-file")).toBe("DRAWBRIDGE_ARM_CA_FILE");
  });

  it("takes KUBECONFIG, ARM_ENDPOINT and ARM_CA_FILE, with the emulator token as default", () => {
    const c = parse([], {
      KUBECONFIG: "/k/config",
      ARM_ENDPOINT: "https://127.0.0.1:8443",
      ARM_CA_FILE: "/ca.pem",
    });
    expect(c.kubeconfig).toBe("/k/config");
    expect(c.armEndpoint).toBe("https://127.0.0.1:8443");
    expect(c.armCaFile).toBe("/ca.pem");
    expect(c.armToken).toBe("emulator-token");
    expect(parse([], { DRAWBRIDGE_KUBECONFIG: "/a", KUBECONFIG: "/b" }).kubeconfig).toBe("/a");
  });

  it("handles boolean flags bare, negated and with values", () => {
    expect(parse(["--leader-elect"]).leaderElect).toBe(true);
    expect(parse(["--no-leader-elect"]).leaderElect).toBe(false);
    expect(parse(["--leader-elect=false", "--log-level=debug"]).leaderElect).toBe(false);
    expect(parse(["--leader-elect", "--log-level=debug"]).logLevel).toBe("debug");
  });

  it("defaults the lease namespace to the pod's namespace", () => {
    const inPod = { ...host, podNamespace: () => "ops" };
    expect(parse([], {}, inPod).leaderElectionNamespace).toBe("ops");
    expect(parse(["--leader-election-namespace=x"], {}, inPod).leaderElectionNamespace).toBe("x");
  });

  it.each([
    [["--write-mode=all"], "--write-mode", /not one of rule, nsg/],
    [["--resync-interval=5"], "--resync-interval", /duration like 30s/],
    [["--resync-interval=100ms"], "--resync-interval", /outside/],
    [["--batch-max-hold=11s"], "--batch-max-hold", /outside 0ms\.\.10000ms/],
    [["--max-concurrent-nsgs=0"], "--max-concurrent-nsgs", /1\.\.1024/],
    [["--max-concurrent-nsgs=two"], "--max-concurrent-nsgs", /integer/],
    [["--log-level=loud"], "--log-level", /trace, debug, info/],
    [["--leader-elect=maybe"], "--leader-elect", /true or false/],
    [["--metrics-bind-address=8080"], "--metrics-bind-address", /host:port/],
    [["--health-probe-bind-address=:99999"], "--health-probe-bind-address", /host:port/],
    [["--namespace=Team_A"], "--namespace", /Kubernetes name/],
    [["--renew-deadline=20s"], "--renew-deadline", /shorter than --lease-duration/],
    [["--retry-period=9s"], "--retry-period", /below --renew-deadline/],
    [["--arm-endpoint=http://x"], "--arm-endpoint", /https/],
    [["--arm-endpoint=::"], "--arm-endpoint", /not a URL/],
    [["--arm-token=t"], "--arm-token", /only allowed together with --arm-endpoint/],
    [["--bogus=1"], "--bogus", /unknown flag/],
    [["positional"], "positional", /unexpected argument/],
    [["--namespace"], "--namespace", /needs a value/],
  ])("rejects %j naming %s", (argv, flag, message) => {
    const err = errorOf(() => parse(argv));
    expect(err.flag).toBe(flag);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${flag}: `)).toBe(true);
  });

  it("validates values that come from the environment too", () => {
    expect(errorOf(() => parse([], { DRAWBRIDGE_WRITE_MODE: "x" })).flag).toBe("--write-mode");
  });

  it("documents every flag with its env variable", () => {
    const text = usageText();
    expect(text).toContain("--resync-interval");
    expect(text).toContain("DRAWBRIDGE_RESYNC_INTERVAL");
    expect(text).toContain("ARM_ENDPOINT");
  });
});

describe("Go durations", () => {
  it.each([
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["168h", 604_800_000],
    ["250ms", 250],
    ["1.5s", 1500],
    ["1500us", 1.5],
    ["1500\u00b5s", 1.5],
    ["0", 0],
  ])("parses %s", (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(["", "5", "-5s", "5 m", "1d", "m", "5s3"])("rejects %j", (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });

  it("formats round-trippable strings", () => {
    for (const ms of [0, 250, 30_000, 300_000, 5_400_000, 604_800_000, 1500]) {
      expect(parseGoDuration(formatGoDuration(ms))).toBe(ms);
    }
    expect(formatGoDuration(5_400_000)).toBe("1h30m");
  });
});
