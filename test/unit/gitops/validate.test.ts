// `drawbridge validate`: the real CRD checks through tools/crdvalidate (the API server's schema and
// CEL libraries; built and cached on first use), the core's semantic checks, and file:line:field
// in every finding.
import { beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkManifests, formatFinding } from "../../../src/gitops/validate/check.ts";
import { crdValidator, loadCrds, schemaProblems } from "../../../src/gitops/validate/crd-schema.ts";
import { manifestFiles, readManifests } from "../../../src/gitops/validate/files.ts";

const VM =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/web-1";
let binary: string;
let dir: string;

function check(yaml: string): string[] {
  writeFileSync(join(dir, "m.yaml"), yaml);
  const { manifests, problems } = readManifests(manifestFiles([dir]));
  const crds = loadCrds();
  return checkManifests(manifests, problems, (o) => schemaProblems(binary, crds, o)).findings.map(
    formatFinding,
  );
}

beforeAll(() => {
  binary = crdValidator();
  dir = mkdtempSync(join(tmpdir(), "drawbridge-validate-"));
}, 600_000);

const policy = (spec: string): string => `apiVersion: jit.drawbridge.dev/v1alpha1
kind: JitPolicy
metadata:
  name: p
  namespace: team-a
spec:
  targets:
    - virtualMachineId: ${VM}
${spec}`;

describe("validate", () => {
  test("a valid policy and a manifest of another kind give nothing", () => {
    expect(
      check(
        `apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n---\n${policy("  ports: [{number: 22, protocol: TCP, maxDuration: PT1H}]\n")}`,
      ),
    ).toEqual([]);
  });

  test("CEL rules of the CRD are evaluated, with file, line and field", () => {
    const out = check(
      policy(
        "  ports:\n    - {number: 22, protocol: Any, maxDuration: PT1H}\n    - {number: 22, protocol: TCP, maxDuration: PT1H}\n",
      ),
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(
      /m\.yaml:9: JitPolicy team-a\/p: spec\.ports: spec\.ports must not list a port number with protocol Any and again with TCP or UDP/,
    );
  });

  test("isCIDR and regex CEL rules, enums and unknown fields", () => {
    const out = check(
      policy(
        "  ports:\n    - number: 22\n      protocol: ICMP\n      allowedSourceAddressPrefixes: [300.1.1.1/8]\n      maxDuraton: PT1H\n",
      ),
    );
    expect(out.join("\n")).toMatch(/m\.yaml:13: .*spec\.ports\[0\]\.maxDuraton: unknown field/);
    expect(out.join("\n")).toMatch(/m\.yaml:11: .*spec\.ports\[0\]\.protocol: supported values/);
    expect(out.join("\n")).toMatch(
      /m\.yaml:12: .*spec\.ports\[0\]\.allowedSourceAddressPrefixes\[0\]: must be an IPv4\/IPv6 address or CIDR/,
    );
  });

  test("a band the schema's CEL rule refuses is reported once, from the schema, naming the field", () => {
    // The core refuses it too (PriorityBandTooSmall); its checks run only on what the schema accepts.
    const out = check(
      policy(
        "  ports: [{number: 22, protocol: TCP, maxDuration: PT1H}, {number: 53, protocol: UDP, maxDuration: PT1H}]\n  priorityRange: {from: 100, to: 101}\n",
      ),
    );
    expect(out).toEqual([expect.stringMatching(/m\.yaml:10: .*spec\.priorityRange: .*is too small/)]);
  });

  test("a request is checked against a policy among the manifests", () => {
    const request = `apiVersion: jit.drawbridge.dev/v1alpha1
kind: AccessRequest
metadata: {name: r, namespace: team-a}
spec:
  policyName: p
  ports: [23]
  sourceAddressPrefix: 203.0.113.7/32
  duration: PT1H
  justification: INC-1
  requester: alice
`;
    const out = check(
      `${policy("  ports: [{number: 22, protocol: TCP, maxDuration: PT1H}]\n")}---\n${request}`,
    );
    expect(out).toEqual([expect.stringMatching(/m\.yaml:\d+: AccessRequest team-a\/r: spec\.ports.*23/)]);
  });

  test("broken YAML is reported with its line", () => {
    expect(check("apiVersion: v1\nkind: [\n")[0]).toMatch(/m\.yaml:\d+: -: -: YAML:/);
  });
});
