// The operator knows its guard is there: without the requester admission policy covering its
// namespace (nobody then vouches for spec.requester), a request stays Pending, says why, and nothing
// is written; once the chart's policy and binding select the namespace, the same request is granted.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { ensureHelm } from "../../src/helm/build.ts";
import { renderChart } from "../../src/helm/template.ts";
import type { Manifest } from "../../src/helm/template.ts";
import { JUMP_NSG, NIC_NSG, Stack, eventually } from "./harness.ts";

jest.setTimeout(180_000);

// A letter first: hex such as "12e345" would read back from the rendered chart as a YAML number.
const run = `r${randomBytes(3).toString("hex")}`;
const label = "drawbridge.dev/guard-e2e";
let stack: Stack;
let guardObjects: Manifest[] = [];

function yamlOf(objects: Manifest[]): string {
  return objects.map((o) => `---\n${stringify(o)}`).join("");
}

beforeAll(async () => {
  stack = await Stack.start("guard");
  stack.startOperator({ guarded: true });
  const helm = await ensureHelm({ env: process.env });
  const rendered = await renderChart(helm, {
    releaseName: `guard-${run}`,
    namespace: stack.ns,
    values: { admissionPolicy: { namespaceSelector: { matchLabels: { [label]: run } } } },
  });
  // Only the requester policy and its binding: other tests share this control plane.
  guardObjects = rendered.filter(
    (m) => m.kind.startsWith("ValidatingAdmissionPolicy") && m.metadata.name.endsWith("-requester-is-caller"),
  );
  expect(guardObjects.map((m) => m.kind).sort()).toEqual([
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
  ]);
}, 1_800_000);

afterAll(async () => {
  await stack.stop();
  if (guardObjects.length > 0) {
    await stack.cluster.kubectl(["delete", "--ignore-not-found", "--wait=false", "-f", "-"], {
      input: yamlOf(guardObjects),
    });
  }
});

describe("the admission guard", () => {
  test("holds requests while no requester policy guards the namespace, grants once one does", async () => {
    await stack.applyPolicy();
    const name = await stack.createRequest();
    const held = await eventually("the request to be held", async () => {
      const r = await stack.getRequest(name);
      return r?.status?.reason === "AdmissionGuardMissing" ? r : undefined;
    });
    expect(held.status?.phase).toBe("Pending");
    expect(held.status?.startTime).toBeUndefined();
    expect(String(held.status?.message)).toContain("requester admission policy");
    expect(stack.allowsFor(NIC_NSG, 22, "203.0.113.7/32")).toEqual([]);

    // The chart's policy and binding, selecting this namespace by label; labelling it wakes the check.
    await stack.kubectlOk(["apply", "--server-side", "--field-manager=guard-e2e", "-f", "-"], {
      input: yamlOf(guardObjects),
    });
    await stack.kubectlOk(["label", "namespace", stack.ns, `${label}=${run}`]);
    await eventually(
      "Active",
      async () => ((await stack.phaseOf(name)) === "Active" ? true : undefined),
      60_000,
    );
    expect(stack.allowsFor(JUMP_NSG, 22, "203.0.113.7/32")).toHaveLength(1);
  });
});
