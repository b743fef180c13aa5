// `drawbridge sweep`, the fail-safe that needs neither the operator nor Kubernetes, run as a child
// process against the ARM emulator. First on a hand-made NSG holding every kind of rule it must not
// touch next to the one it must remove; then with the real operator: a short grant is opened, the
// operator is killed, and once the grant has lapsed the sweep alone closes it.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { join } from "node:path";
import {
  allowRuleDescription,
  allowRuleName,
  denyRuleDescription,
  denyRuleName,
} from "../../src/core/names.ts";
import { allowDescriptionExpiry } from "../../src/core/names.ts";
import { startEmulator } from "../../src/emulator/index.ts";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import { ALL_NSGS, ROOT, SUB, Stack, eventually, sourcesOf } from "./harness.ts";
import type { Rule } from "./harness.ts";

const SWEEP_SUB = "00000000-0000-0000-0000-0000000000aa";
const RG = `/subscriptions/${SWEEP_SUB}/resourceGroups/sweep-rg/providers`;
const NSG = `${RG}/Microsoft.Network/networkSecurityGroups/sweep-nsg`;
const OTHER_NSG = `${RG}/Microsoft.Network/networkSecurityGroups/other-nsg`;
const VM = `${RG}/Microsoft.Compute/virtualMachines/vm-1`;
const KEY = "team-a/web-admin";
const PAST = new Date(Date.now() - 3_600_000);
const FUTURE = new Date(Date.now() + 3_600_000);

interface RunResult {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

/** `node bin/drawbridge.js sweep ...` with no Kubernetes in sight (no KUBECONFIG, no cluster). */
function sweep(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", join(ROOT, "bin", "drawbridge.js"), "sweep", ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" }, stdio: "pipe" },
    );
    let out = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const lines = out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, lines, stderr });
    });
  });
}

function events(r: RunResult, event: string): Record<string, unknown>[] {
  return r.lines.filter((l) => l.event === event);
}

function rule(
  name: string,
  priority: number,
  access: "Allow" | "Deny",
  description: string,
  port = 22,
): object {
  return {
    name,
    properties: {
      description,
      protocol: "Tcp",
      sourcePortRange: "*",
      destinationPortRange: String(port),
      sourceAddressPrefix: "203.0.113.7/32",
      destinationAddressPrefix: "10.0.1.4",
      access,
      priority,
      direction: "Inbound",
    },
  };
}

const LAPSED = allowRuleName(KEY, VM, "TCP", 22);
const LIVE = allowRuleName(KEY, VM, "TCP", 2222);
const DENY = denyRuleName(KEY, VM, "TCP");
const BLUE_LAPSED = allowRuleName(KEY, VM, "TCP", 22, "blue");
const OLD_FORMAT = allowRuleName(KEY, VM, "TCP", 3389);

function nsgDoc(id: string, rules: object[]): object {
  return {
    id,
    type: "Microsoft.Network/networkSecurityGroups",
    location: "westeurope",
    properties: { securityRules: rules },
  };
}

describe("drawbridge sweep on a hand-made NSG (no operator, no Kubernetes)", () => {
  let emulator: RunningEmulator;
  let arm: string[];

  beforeAll(async () => {
    emulator = await startEmulator({
      throttle: false,
      recordWrites: true,
      seed: [
        nsgDoc(NSG, [
          rule(LAPSED, 100, "Allow", allowRuleDescription(KEY, VM, "TCP", 22, 1, PAST)),
          rule(LIVE, 101, "Allow", allowRuleDescription(KEY, VM, "TCP", 2222, 1, FUTURE), 2222),
          rule(BLUE_LAPSED, 102, "Allow", allowRuleDescription(KEY, VM, "TCP", 22, 1, PAST, "blue")),
          // Written before descriptions carried an expiry: unreadable, left alone, counted.
          rule(
            OLD_FORMAT,
            103,
            "Allow",
            `drawbridge JIT allow 3389/TCP, 1 source(s), policy ${KEY}, target vm-1`,
            3389,
          ),
          // A baseline deny whose description was edited to look lapsed: a deny is never removed.
          rule(DENY, 150, "Deny", allowRuleDescription(KEY, VM, "TCP", 22, 1, PAST)),
          // A foreign rule that imitates a lapsed drawbridge description: foreign is never removed.
          rule("ops-ssh", 200, "Allow", allowRuleDescription(KEY, VM, "TCP", 22, 1, PAST)),
          rule("ops-deny", 300, "Deny", denyRuleDescription(KEY, VM, "TCP")),
        ]),
        nsgDoc(OTHER_NSG, [rule(LAPSED, 100, "Allow", allowRuleDescription(KEY, VM, "TCP", 22, 1, PAST))]),
      ],
    });
    arm = [`--arm-endpoint=${emulator.endpoint}`, `--arm-ca-file=${emulator.caFile}`];
  });

  afterAll(async () => {
    await emulator.close();
  });

  function rules(id: string): Rule[] {
    const doc = emulator.getNsgDocument(id) as { properties?: { securityRules?: Rule[] } } | undefined;
    return withoutEtags(doc?.properties?.securityRules ?? []);
  }

  it("with --dry-run names the lapsed rule and deletes nothing", async () => {
    const before = rules(NSG);
    const r = await sweep([...arm, `--nsg=${NSG}`, "--dry-run"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(events(r, "sweep-would-delete").map((l) => [l.nsg, l.rule])).toEqual([[NSG, LAPSED]]);
    expect(events(r, "sweep-summary")[0]).toMatchObject({
      nsgs: 1,
      scanned: 3,
      lapsed: 1,
      deleted: 0,
      unreadable: 1,
      errors: 0,
      dryRun: true,
    });
    expect(rules(NSG)).toEqual(before);
    expect(emulator.writeLog()).toEqual([]);
  }, 60_000);

  it("deletes only the lapsed allow rule of its own instance; every other rule stays byte-identical", async () => {
    const before = rules(NSG);
    const r = await sweep([...arm, `--subscription=${SWEEP_SUB}`, "--grace=0s"]);
    expect(r.code).toBe(0);
    const deleted = events(r, "sweep-deleted");
    expect(deleted.map((l) => [l.nsg, l.rule]).sort()).toEqual(
      [
        [NSG, LAPSED],
        [OTHER_NSG, LAPSED],
      ].sort(),
    );
    expect(deleted[0]?.expiresAt).toBe(new Date(Math.ceil(PAST.getTime() / 1000) * 1000).toISOString());
    expect(events(r, "sweep-summary")[0]).toMatchObject({
      nsgs: 2,
      scanned: 4,
      lapsed: 2,
      deleted: 2,
      unreadable: 1,
      errors: 0,
    });
    expect(events(r, "sweep-unreadable")[0]?.rules).toEqual([OLD_FORMAT]);
    expect(rules(NSG)).toEqual(before.filter((x) => x.name !== LAPSED));
    expect(rules(OTHER_NSG).filter((x) => x.name === LAPSED)).toEqual([]);
  }, 60_000);

  it("with --instance-id removes that instance's lapsed rules only", async () => {
    const before = rules(NSG);
    const r = await sweep([...arm, `--nsg=${NSG}`, "--instance-id=blue"]);
    expect(r.code).toBe(0);
    expect(events(r, "sweep-deleted").map((l) => l.rule)).toEqual([BLUE_LAPSED]);
    expect(rules(NSG)).toEqual(before.filter((x) => x.name !== BLUE_LAPSED));
  }, 60_000);

  it("leaves a rule lapsed for less than --grace", async () => {
    const recent = new Date(Date.now() - 5_000);
    emulator.addResources([
      nsgDoc(OTHER_NSG, [rule(LAPSED, 100, "Allow", allowRuleDescription(KEY, VM, "TCP", 22, 1, recent))]),
    ]);
    const kept = await sweep([...arm, `--nsg=${OTHER_NSG}`, "--grace=5m"]);
    expect(events(kept, "sweep-summary")[0]).toMatchObject({ scanned: 1, lapsed: 0, deleted: 0 });
    expect(rules(OTHER_NSG).map((x) => x.name)).toEqual([LAPSED]);
    const gone = await sweep([...arm, `--nsg=${OTHER_NSG}`, "--grace=1s"]);
    expect(events(gone, "sweep-summary")[0]).toMatchObject({ lapsed: 1, deleted: 1 });
    expect(rules(OTHER_NSG)).toEqual([]);
  }, 60_000);

  it("exits non-zero with one clear line when ARM fails, and refuses bad flags with code 2", async () => {
    emulator.setFaults({ rate500: 1 });
    try {
      const r = await sweep([...arm, `--subscription=${SWEEP_SUB}`]);
      expect(r.code).toBe(1);
      expect(events(r, "sweep-list-failed")[0]).toMatchObject({
        subscriptionId: SWEEP_SUB,
        kind: "Transient",
      });
      expect(events(r, "sweep-summary")[0]).toMatchObject({ errors: 1, deleted: 0 });
    } finally {
      emulator.setFaults({});
    }
    const none = await sweep(arm);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--subscription: give at least one --subscription or --nsg");
    const token = await sweep([`--subscription=${SWEEP_SUB}`, "--arm-token=t"]);
    expect(token.code).toBe(2);
    expect(token.stderr).toContain("--arm-token: is only allowed together with --arm-endpoint");
  }, 120_000);
});

describe("drawbridge sweep with the operator down", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start("sweep");
    stack.startOperator();
    await stack.applyPolicy();
  }, 120_000);

  afterAll(async () => {
    await stack.stop();
  });

  it("closes a grant that lapsed after the operator was killed", async () => {
    const source = "203.0.113.77/32";
    const name = await stack.createRequest({ sourceAddressPrefix: source, duration: "PT10S" });
    await eventually("request Active", async () => (await stack.phaseOf(name)) === "Active", 30_000);
    const carrying = (): Rule[] =>
      ALL_NSGS.flatMap((id) => stack.managed(id).filter((r) => sourcesOf(r).includes(source)));
    await eventually("rules in every NSG", () => carrying().length === ALL_NSGS.length, 20_000);
    const req = await stack.getRequest(name);
    const expiresAt = Date.parse(String(req?.status?.expiresAt));
    for (const r of carrying()) {
      expect(allowDescriptionExpiry(r.properties.description)?.getTime()).toBe(
        Math.ceil(expiresAt / 1000) * 1000,
      );
    }
    await stack.operator?.kill();
    const before = new Map(ALL_NSGS.map((id) => [id, withoutEtags(stack.rules(id))]));
    // Before expiry (+ grace) the sweep removes nothing.
    const early = await sweep([
      `--arm-endpoint=${stack.emulator.endpoint}`,
      `--arm-ca-file=${stack.emulator.caFile}`,
      `--subscription=${SUB}`,
      "--grace=1s",
    ]);
    expect(early.code).toBe(0);
    if (Date.now() < expiresAt) expect(carrying()).toHaveLength(ALL_NSGS.length);
    const wait = expiresAt + 2_500 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // The operator is dead: the rules are still there until the sweep runs.
    expect(carrying()).toHaveLength(ALL_NSGS.length);
    const r = await sweep([
      `--arm-endpoint=${stack.emulator.endpoint}`,
      `--arm-ca-file=${stack.emulator.caFile}`,
      `--subscription=${SUB}`,
      "--grace=1s",
    ]);
    expect(r.code).toBe(0);
    expect(events(r, "sweep-deleted")).toHaveLength(ALL_NSGS.length);
    expect(carrying()).toEqual([]);
    for (const id of ALL_NSGS) {
      const names = new Set(carryingNames(before.get(id) ?? [], source));
      expect(withoutEtags(stack.rules(id))).toEqual((before.get(id) ?? []).filter((x) => !names.has(x.name)));
    }
  }, 90_000);
});

function carryingNames(rules: Rule[], source: string): string[] {
  return rules
    .filter((r) => r.name.startsWith("drawbridge-") && sourcesOf(r).includes(source))
    .map((r) => r.name);
}

/**
 * Rules as ARM returns them minus their etags: every write to an NSG gives all of its rules a new
 * etag (as in Azure), so "untouched" means every other field is the same.
 */
function withoutEtags(rules: Rule[]): Rule[] {
  return rules.map((r) => {
    const { etag: _etag, ...rest } = structuredClone(r) as Rule & { etag?: string };
    return rest;
  });
}
