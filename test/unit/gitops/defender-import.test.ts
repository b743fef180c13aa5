// `drawbridge import defender` on every official Microsoft.Security 2020-01-01 JIT example and on
// malformed input. Specs are found as the emulator tests find them (AZURE_SPECS_DIR, else
// ../shared/azure-rest-api-specs).
import { describe, expect, test } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { JitPolicy } from "../../../src/api/types.ts";
import { validatePolicySpec } from "../../../src/core/validate-policy.ts";
import { importDefender } from "../../../src/gitops/import-cli.ts";
import { specsRoot } from "../../integration/emulator/specs.ts";

const EXAMPLES_REL =
  "specification/security/resource-manager/Microsoft.Security/stable/2020-01-01/examples/JitNetworkAccessPolicies";

type Json = Record<string, unknown>;

function run(input: string, args: string[] = []): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = importDefender([...args, "-"], {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    readStdin: () => input,
  });
  return { code, out, err };
}

function policiesOf(yamlText: string): JitPolicy[] {
  return parseAllDocuments(yamlText).map((d) => d.toJS() as JitPolicy);
}

/** Every body of an example file: the request body and each response body. */
function bodies(example: Json): { where: string; body: unknown }[] {
  const params = example["parameters"] as Json;
  const out: { where: string; body: unknown }[] = [];
  if (params["body"] !== undefined) out.push({ where: "parameters.body", body: params["body"] });
  for (const [status, r] of Object.entries(example["responses"] as Record<string, Json>)) {
    if (r["body"] !== undefined) out.push({ where: `responses.${status}.body`, body: r["body"] });
  }
  return out;
}

function policyBodies(body: unknown): Json[] {
  const b = body as Json;
  if (Array.isArray(b["value"])) return b["value"] as Json[];
  return b["properties"] === undefined ? [] : [b];
}

const dir = join(specsRoot(), EXAMPLES_REL);
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
const cases = files.flatMap((f) =>
  bodies(JSON.parse(readFileSync(join(dir, f), "utf8")) as Json).map((b) => ({ file: f, ...b })),
);

describe("import defender: official examples", () => {
  test("the example folder holds the JIT examples", () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(cases.filter((c) => policyBodies(c.body).length > 0).length).toBeGreaterThanOrEqual(4);
  });

  test.each(cases)("$file $where", ({ body }) => {
    const defender = policyBodies(body);
    const r = run(JSON.stringify(body), ["-n", "team-a"]);
    if (defender.length === 0) {
      // Initiate bodies and request responses are not policies: refused, with the reason.
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/virtualMachines is missing|not a jitNetworkAccessPolicies/);
      expect(r.out).toBe("");
      return;
    }
    expect(r.code).toBe(0);
    const policies = policiesOf(r.out);
    const vms = defender.flatMap((p) => (p["properties"] as Json)["virtualMachines"] as Json[]);
    const targets = policies.flatMap((p) => p.spec.targets.map((t) => t.virtualMachineId));
    expect(targets.sort()).toEqual(vms.map((v) => v["id"]).sort());
    for (const p of policies) {
      expect(p.metadata.namespace).toBe("team-a");
      expect(validatePolicySpec(p.spec)).toEqual([]);
      const vm = vms.find((v) => v["id"] === p.spec.targets[0]?.virtualMachineId) as Json;
      const rules = vm["ports"] as Json[];
      expect(p.spec.ports).toHaveLength(rules.length);
      rules.forEach((rule, i) => {
        const port = p.spec.ports[i];
        expect(port?.number).toBe(rule["number"]);
        expect(port?.protocol).toBe(rule["protocol"] === "*" ? "Any" : rule["protocol"]);
        expect(port?.maxDuration).toBe(rule["maxRequestAccessDuration"]);
        if (rule["allowedSourceAddressPrefix"] === "*") {
          // "The requester's address": one address named by the request, never a wildcard.
          expect(port?.allowedSourceAddressPrefixes).toBeUndefined();
          expect(port?.minimumSourcePrefixLength).toEqual({ ipv4: 32, ipv6: 128 });
        }
      });
    }
    expect(r.out).toContain("the requester's address");
    const requests = defender.flatMap(
      (p) => ((p["properties"] as Json)["requests"] as unknown[] | undefined) ?? [],
    );
    expect(r.err.match(/^open request \(listed, not imported\)/gm)?.length ?? 0).toBe(requests.length);
  });
});

const SUB =
  "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines";

function template(vms: unknown[], extra: Json = {}): string {
  return JSON.stringify({
    resources: [
      { type: "Microsoft.Storage/storageAccounts", name: "x" },
      {
        type: "Microsoft.Security/locations/jitNetworkAccessPolicies",
        apiVersion: "2020-01-01",
        name: "prod",
        properties: { virtualMachines: vms },
        ...extra,
      },
    ],
  });
}

const ssh = {
  number: 22,
  protocol: "TCP",
  allowedSourceAddressPrefixes: ["203.0.113.0/24"],
  maxRequestAccessDuration: "PT2H",
};
const dns = {
  number: 53,
  protocol: "UDP",
  allowedSourceAddressPrefix: "198.51.100.7",
  maxRequestAccessDuration: "PT30M",
};

describe("import defender: grouping and mapping", () => {
  test("VMs with identical port sets share a policy; others get their own band", () => {
    const r = run(
      template([
        { id: `${SUB}/a`, ports: [ssh] },
        { id: `${SUB}/b`, ports: [ssh] },
        { id: `${SUB}/c`, ports: [ssh, dns] },
      ]),
      ["--priority-start", "300", "--band-size", "50"],
    );
    expect(r.code).toBe(0);
    expect(r.err).toContain("1 template resources of other types were skipped");
    const [one, two] = policiesOf(r.out);
    expect(one?.metadata.name).toBe("prod-22");
    expect(one?.spec.targets).toEqual([{ virtualMachineId: `${SUB}/a` }, { virtualMachineId: `${SUB}/b` }]);
    expect(one?.spec.priorityRange).toEqual({ from: 300, to: 349 });
    expect(two?.metadata.name).toBe("prod-22-53");
    expect(two?.spec.priorityRange).toEqual({ from: 350, to: 399 });
    expect(two?.spec.ports[1]).toEqual({
      number: 53,
      protocol: "UDP",
      maxDuration: "PT30M",
      allowedSourceAddressPrefixes: ["198.51.100.7"],
    });
  });

  test("an Azure Firewall publicIpAddress is reported, the NSG access still imported", () => {
    const r = run(template([{ id: `${SUB}/fw`, ports: [ssh], publicIpAddress: "20.1.2.3" }]));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/publicIpAddress 20\.1\.2\.3 is an Azure Firewall/);
    expect(policiesOf(r.out)).toHaveLength(1);
  });

  test.each([
    ["a protocol drawbridge lacks", { ...ssh, protocol: "ICMP" }, /protocol must be TCP, UDP or \*/],
    ["both prefix fields", { ...ssh, allowedSourceAddressPrefix: "1.2.3.4" }, /mutually exclusive/],
    [
      "a duration over a day",
      { ...ssh, maxRequestAccessDuration: "P2D" },
      /outside drawbridge's PT1M\.\.P1D/,
    ],
    ["a month duration", { ...ssh, maxRequestAccessDuration: "P1M" }, /years, months or weeks/],
    [
      "a service tag source",
      { ...ssh, allowedSourceAddressPrefixes: ["VirtualNetwork"] },
      /allowed source "VirtualNetwork"/,
    ],
    ["* mixed with prefixes", { ...ssh, allowedSourceAddressPrefixes: ["*", "1.2.3.4"] }, /"\*" together/],
    ["port 0", { ...ssh, number: 0 }, /number must be an integer/],
  ])("a port with %s is reported, never dropped silently", (_what, port, message) => {
    const r = run(template([{ id: `${SUB}/a`, ports: [port, dns] }]));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/ports\[0\].*the port is not imported/);
    expect(policiesOf(r.out)[0]?.spec.ports.map((p) => p.number)).toEqual([53]);
  });

  test("a VM named twice is imported once and the second entry reported", () => {
    const r = run(
      template([
        { id: `${SUB}/a`, ports: [ssh] },
        { id: `${SUB}/A`, ports: [dns] },
      ]),
    );
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/already imported/);
    expect(policiesOf(r.out)).toHaveLength(1);
  });

  test("an ARM template expression as VM id is reported", () => {
    const r = run(template([{ id: "[resourceId('Microsoft.Compute/virtualMachines', 'a')]", ports: [ssh] }]));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/is not a virtual machine ARM id/);
    expect(r.out).toBe("");
  });

  test("more than 100 VMs with one port set split into policies of at most 100 targets", () => {
    const vms = Array.from({ length: 150 }, (_, i) => ({ id: `${SUB}/vm${i}`, ports: [ssh] }));
    const r = run(template(vms));
    expect(r.code).toBe(0);
    expect(policiesOf(r.out).map((p) => p.spec.targets.length)).toEqual([100, 50]);
  });
});

describe("import defender: malformed input", () => {
  test.each([
    ["not JSON", "{", /stdin: not JSON/],
    ["empty", "", /stdin: not JSON/],
    ["an array", "[]", /expected a jitNetworkAccessPolicies object/],
    [
      "another type",
      JSON.stringify({ type: "Microsoft.Compute/virtualMachines", properties: {} }),
      /expected Microsoft\.Security/,
    ],
    ["no virtualMachines", JSON.stringify({ properties: {} }), /virtualMachines is missing/],
    ["a template without JIT", JSON.stringify({ resources: [{ type: "x" }] }), /has no Microsoft\.Security/],
    ["a list with a bad item", JSON.stringify({ value: [null] }), /value\[0\]: expected/],
  ])("%s is refused with exit 1", (_what, input, message) => {
    const r = run(input);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.out).toBe("");
  });

  test("bad flags exit 2", () => {
    expect(run("{}", ["--band-size", "1"]).code).toBe(2);
    expect(run("{}", ["--priority-start", "50"]).code).toBe(2);
  });
});
