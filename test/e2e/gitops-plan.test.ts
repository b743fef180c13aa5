// `drawbridge plan` on the local stack: against the live cluster and emulator NSGs it reports no
// change for the applied policy (exit 0), per-NSG adds for a new port (exit 2, also as JSON), a
// foreign rule in a band as a conflict, a target outside every JitScope, and it writes nothing.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlanReport } from "../../src/gitops/plan/compute.ts";
import { ALL_NSGS, NIC_NSG, ROOT, Stack, eventually } from "./harness.ts";

let stack: Stack;
let dir: string;

/** Async: the emulator answers from this process, so a synchronous spawn would starve it. */
function plan(
  file: string,
  extra: string[] = [],
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      join(ROOT, "bin", "drawbridge.js"),
      "plan",
      "-f",
      file,
      `--kubeconfig=${stack.cluster.adminKubeconfig}`,
      `--arm-endpoint=${stack.emulator.endpoint}`,
      `--arm-ca-file=${stack.emulator.caFile}`,
      "--arm-token=emulator-token",
      ...extra,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) =>
    child.once("close", (code) => {
      resolve({ code, out, err });
    }),
  );
}

function write(name: string, mutate?: (doc: Record<string, unknown>) => void): string {
  const path = join(dir, name);
  writeFileSync(path, stack.policyYaml(mutate));
  return path;
}

function snapshot(): string {
  return JSON.stringify(ALL_NSGS.map((id) => stack.rules(id)));
}

beforeAll(async () => {
  stack = await Stack.start("gitops-plan");
  dir = mkdtempSync(join(tmpdir(), "drawbridge-plan-"));
  stack.startOperator();
  await stack.applyPolicy();
  await eventually(
    "web-admin Ready",
    async () => {
      const p = JSON.parse(
        await stack.kubectlOk(["get", "jitpolicy", "web-admin", "-n", stack.ns, "-o", "json"]),
      ) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true
        ? true
        : undefined;
    },
    60_000,
  );
  // An active grant: the plan must keep its allow rules (counted as the operator counts them).
  const request = await stack.createRequest();
  await eventually(
    "request Active",
    async () => ((await stack.phaseOf(request)) === "Active" ? true : undefined),
    60_000,
  );
  // Let the operator settle its writes, then stop it: the plan must not depend on it.
  await stack.operator?.stop();
}, 120_000);

afterAll(async () => {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("plan on the local stack", () => {
  it("the applied policy with an active grant plans no change (exit 0) and writes nothing", async () => {
    const before = snapshot();
    expect(stack.managed(NIC_NSG).some((r) => r.properties.access === "Allow")).toBe(true);
    const r = await plan(write("same.yaml"));
    expect(r.err).toBe("");
    expect(r.out).toMatch(/No changes\./);
    expect(r.code).toBe(0);
    expect(snapshot()).toBe(before);
  }, 60_000);

  it("a new port shows per-NSG adds with priorities (exit 2), as text and JSON", async () => {
    const before = snapshot();
    const file = write("port.yaml", (doc) => {
      (doc.spec as { ports: unknown[] }).ports.push({ number: 8443, protocol: "TCP", maxDuration: "PT1H" });
    });
    const text = await plan(file);
    expect(text.code).toBe(2);
    expect(text.out).toContain(`NSG ${NIC_NSG}`);
    // The baseline deny of the band widens to the new port: a change, at the band's top priority.
    expect(text.out).toMatch(/^ {2}~ 199 Deny drawbridge-\S+-deny-tcp$/m);
    const json = await plan(file, ["-o", "json"]);
    expect(json.code).toBe(2);
    const report = JSON.parse(json.out) as PlanReport;
    const nic = report.nsgs.find((n) => n.nsgId.toLowerCase() === NIC_NSG.toLowerCase());
    expect(nic?.changes.length).toBeGreaterThan(0);
    for (const c of nic?.changes ?? []) expect(c.priority).toBeGreaterThanOrEqual(100);
    expect(snapshot()).toBe(before);
  }, 60_000);

  it("a band holding a foreign rule is reported as a conflict", async () => {
    const r = await plan(
      write("band.yaml", (doc) => {
        (doc.spec as Record<string, unknown>).priorityRange = { from: 300, to: 399 };
      }),
      ["-o", "json"],
    );
    const report = JSON.parse(r.out) as PlanReport;
    expect(report.nsgs.flatMap((n) => n.conflicts).join("\n")).toMatch(/allow-https.*priority 300/);
  }, 60_000);

  it("a target outside every JitScope is reported", async () => {
    const r = await plan(
      write("scope.yaml", (doc) => {
        (doc.spec as Record<string, unknown>).targets = [
          {
            virtualMachineId:
              "/subscriptions/00000000-0000-0000-0000-000000000009/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
          },
        ];
      }),
    );
    expect(r.out).toMatch(/! .*web-admin: out of scope: /);
  }, 60_000);

  it("an unreadable file is an error (exit 1)", async () => {
    writeFileSync(join(dir, "broken.yaml"), "kind: [\n");
    expect((await plan(join(dir, "broken.yaml"))).code).toBe(1);
  }, 60_000);
});
