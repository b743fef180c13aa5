// `drawbridge import defender` end to end: a Defender JIT policy for the seed's web-1 becomes YAML
// the real API server admits (CRD schema and CEL), the operator reconciles it, and Defender's "*"
// source keeps its meaning: a request for one address is granted, one for a /24 is denied.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NIC_NSG, ROOT, Stack, VM_ID, eventually, portsOf, sourcesOf } from "./harness.ts";

let stack: Stack;
let dir: string;
let yaml: string;

const defender = {
  id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers/Microsoft.Security/locations/westeurope/jitNetworkAccessPolicies/default",
  name: "default",
  type: "Microsoft.Security/locations/jitNetworkAccessPolicies",
  kind: "Basic",
  properties: {
    virtualMachines: [
      {
        id: VM_ID,
        ports: [
          { number: 22, protocol: "*", allowedSourceAddressPrefix: "*", maxRequestAccessDuration: "PT2H" },
          {
            number: 3389,
            protocol: "TCP",
            allowedSourceAddressPrefixes: ["203.0.113.0/24"],
            maxRequestAccessDuration: "PT1H",
          },
        ],
      },
    ],
    requests: [
      {
        virtualMachines: [
          {
            id: VM_ID,
            ports: [
              {
                number: 22,
                allowedSourceAddressPrefix: "192.0.2.1",
                endTimeUtc: "2030-01-01T00:00:00Z",
                status: "Initiated",
                statusReason: "UserRequested",
              },
            ],
          },
        ],
        startTimeUtc: "2029-12-31T23:00:00Z",
        requestor: "barbara@contoso.com",
      },
    ],
  },
};

/** True once the request is in `phase`; otherwise throws its status, so a timeout says why. */
async function inPhase(name: string, phase: string): Promise<boolean> {
  const status = (await stack.getRequest(name))?.status;
  if (status?.["phase"] === phase) return true;
  throw new Error(
    `${name}: ${JSON.stringify({ phase: status?.["phase"], reason: status?.["reason"], message: status?.["message"] })}`,
  );
}

beforeAll(async () => {
  stack = await Stack.start("gitops-import");
  dir = mkdtempSync(join(tmpdir(), "drawbridge-import-"));
  writeFileSync(join(dir, "defender.json"), JSON.stringify(defender));
}, 120_000);

afterAll(async () => {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("import defender on the local stack", () => {
  it("writes YAML the API server admits, and lists the open request", async () => {
    const r = spawnSync(
      process.execPath,
      [
        "--disable-warning=ExperimentalWarning",
        join(ROOT, "bin", "drawbridge.js"),
        "import",
        "defender",
        join(dir, "defender.json"),
        "-n",
        stack.ns,
      ],
      { encoding: "utf8" },
    );
    expect(r.stderr).toMatch(
      /open request \(listed, not imported\).*barbara@contoso\.com.*port 22 from 192\.0\.2\.1/,
    );
    expect(r.status).toBe(0);
    yaml = r.stdout;
    expect(yaml).toContain("name: default-22-3389");
    await stack.kubectlOk(["apply", "-f", "-"], { input: yaml });
    // Nothing of the request was imported.
    expect(await stack.kubectlOk(["get", "accessrequests", "-n", stack.ns, "-o", "name"])).toBe("");
  }, 60_000);

  it("the operator reconciles the imported policy", async () => {
    stack.startOperator();
    await eventually(
      "imported policy Ready",
      async () => {
        const out = await stack.kubectlOk([
          "get",
          "jitpolicy",
          "default-22-3389",
          "-n",
          stack.ns,
          "-o",
          "json",
        ]);
        const conds =
          (JSON.parse(out) as { status?: { conditions?: { type: string; status: string }[] } }).status
            ?.conditions ?? [];
        return conds.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
      },
      60_000,
    );
  }, 90_000);

  it('Defender\'s "*" source admits one requester address and refuses a /24', async () => {
    const one = await stack.createRequest({
      policyName: "default-22-3389",
      ports: [22],
      sourceAddressPrefix: "198.51.100.9/32",
      duration: "PT1H",
    });
    const wide = await stack.createRequest({
      policyName: "default-22-3389",
      ports: [22],
      sourceAddressPrefix: "198.51.100.0/24",
      duration: "PT1H",
    });
    await eventually("one address Active", () => inPhase(one, "Active"), 60_000);
    await eventually("the /24 Denied", () => inPhase(wide, "Denied"), 60_000);
    const allows = stack
      .managed(NIC_NSG)
      .filter((rule) => rule.properties.access === "Allow" && portsOf(rule).includes("22"));
    expect(allows.flatMap(sourcesOf).some((s) => s.startsWith("198.51.100.9"))).toBe(true);
    expect(allows.flatMap(sourcesOf).some((s) => s.startsWith("198.51.100.0"))).toBe(false);
  }, 120_000);
});
