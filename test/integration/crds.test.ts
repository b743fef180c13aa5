// The CRDs as the API server serves them: established, documented (`kubectl explain`), printer
// columns, the status subresource, immutability of AccessRequest, and RBAC on the new kinds.
import { beforeAll, describe, expect, jest, test } from "@jest/globals";
import { testCluster } from "../support/cluster.ts";
import type { TestCluster } from "../support/cluster.ts";
import { inNamespace, loadDocuments, repoPath } from "../support/manifests.ts";
import type { Manifest } from "../support/manifests.ts";

jest.setTimeout(60_000);

type Schema = { description?: string; properties?: Record<string, Schema>; items?: Schema };
type Column = { name: string; priority?: number; jsonPath: string };
type Crd = {
  metadata: { name: string };
  spec: {
    names: { kind: string; plural: string };
    versions: { name: string; additionalPrinterColumns?: Column[]; schema: { openAPIV3Schema: Schema } }[];
  };
};

const crds = ["jitpolicies.jit.drawbridge.dev", "accessrequests.jit.drawbridge.dev"].map(
  (name) => loadDocuments<Crd>(repoPath(`crds/${name}.yaml`))[0]!,
);
const [policyCrd, requestCrd] = crds as [Crd, Crd];
const examplePolicy = loadDocuments(repoPath("examples/policy.yaml"))[0]!;
const exampleRequest = loadDocuments(repoPath("examples/request.yaml"))[0]!;

const squash = (text: string): string => text.replace(/\s+/g, " ").trim();

function schemaAt(crd: Crd, path: string[]): Schema {
  let node: Schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
  for (const key of path) node = (node.properties?.[key] ?? node.items?.properties?.[key])!;
  return node.items ?? node;
}

async function ok(c: TestCluster, args: string[], input?: string): Promise<string> {
  const r = await c.kubectl(args, input === undefined ? {} : { input });
  expect({ args, stderr: r.stderr, code: r.code }).toEqual({ args, stderr: "", code: 0 });
  return r.stdout;
}

async function getJson<T>(c: TestCluster, ns: string, resource: string): Promise<T> {
  return JSON.parse(await ok(c, ["get", "-n", ns, resource, "-o", "json"])) as T;
}

function named(manifest: Manifest, name: string): Manifest {
  return { ...manifest, metadata: { name } };
}

describe("CRDs on the API server", () => {
  let c: TestCluster;
  beforeAll(() => {
    c = testCluster();
  });

  test.each(crds.map((crd) => [crd.metadata.name]))(
    "%s is Established and its names accepted",
    async (name) => {
      const crd = JSON.parse(await ok(c, ["get", "crd", name, "-o", "json"])) as {
        status: { conditions: { type: string; status: string }[] };
      };
      const status = Object.fromEntries(crd.status.conditions.map((x) => [x.type, x.status]));
      expect(status).toMatchObject({ Established: "True", NamesAccepted: "True" });
    },
  );

  test("kubectl explain shows the schema's field descriptions", async () => {
    const out = squash(await ok(c, ["explain", "jitpolicy.spec.ports"]));
    const ports = schemaAt(policyCrd, ["spec", "ports"]);
    expect(out).toContain(
      squash(
        policyCrd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!.properties!.ports!.description!,
      ),
    );
    for (const [field, schema] of Object.entries(ports.properties ?? {})) {
      expect(out).toContain(field);
      expect(out).toContain(squash(schema.description ?? "(no description)"));
    }
    const duration = squash(await ok(c, ["explain", "accessrequest.spec.duration"]));
    expect(duration).toContain(squash(schemaAt(requestCrd, ["spec", "duration"]).description!));
  });

  test("kubectl get shows the printer columns, -o wide the extra ones", async () => {
    const ns = await c.createNamespace("columns");
    await ok(c, ["apply", "-f", "-"], inNamespace(examplePolicy, ns));
    await ok(c, ["create", "-f", "-"], inNamespace(exampleRequest, ns));
    for (const crd of crds) {
      const columns = crd.spec.versions[0]!.additionalPrinterColumns ?? [];
      expect(columns.length).toBeGreaterThan(1);
      const header = (out: string): string[] =>
        out
          .split("\n")[0]!
          .trim()
          .split(/\s{2,}/);
      const plain = header(await ok(c, ["get", "-n", ns, crd.spec.names.plural]));
      const wide = header(await ok(c, ["get", "-n", ns, crd.spec.names.plural, "-o", "wide"]));
      expect(plain).toEqual(["NAME", ...columns.filter((x) => !x.priority).map((x) => x.name.toUpperCase())]);
      expect(wide).toEqual(["NAME", ...columns.map((x) => x.name.toUpperCase())]);
    }
    const row = await ok(c, ["get", "-n", ns, "accessrequests", "-o", "wide", "--no-headers"]);
    expect(row).toContain("web-admin");
    expect(row).toContain("203.0.113.7/32");
    expect(row).toContain("alice");
  });
});

describe("status subresource", () => {
  test("spec updates ignore status; status updates ignore spec", async () => {
    const c = testCluster();
    const ns = await c.createNamespace("status");
    await ok(c, ["apply", "-f", "-"], inNamespace(examplePolicy, ns));
    type Policy = {
      metadata: { generation: number };
      spec: { nsgScope: string };
      status?: { observedGeneration?: number };
    };
    const before = await getJson<Policy>(c, ns, "jitpolicy/web-admin");
    await ok(c, [
      ...["patch", "-n", ns, "jitpolicy/web-admin", "--type=merge"],
      ...["-p", '{"spec":{"nsgScope":"Subnet"},"status":{"observedGeneration":7}}'],
    ]);
    const afterSpec = await getJson<Policy>(c, ns, "jitpolicy/web-admin");
    expect(afterSpec.spec.nsgScope).toBe("Subnet");
    expect(afterSpec.status?.observedGeneration).toBeUndefined();
    expect(afterSpec.metadata.generation).toBe(before.metadata.generation + 1);

    await ok(c, [
      ...["patch", "-n", ns, "jitpolicy/web-admin", "--subresource=status", "--type=merge"],
      ...["-p", '{"spec":{"nsgScope":"NetworkInterface"},"status":{"observedGeneration":2}}'],
    ]);
    const afterStatus = await getJson<Policy>(c, ns, "jitpolicy/web-admin");
    expect(afterStatus.status?.observedGeneration).toBe(2);
    expect(afterStatus.spec.nsgScope).toBe("Subnet");
    expect(afterStatus.metadata.generation).toBe(afterSpec.metadata.generation);
  });
});

describe("AccessRequest immutability", () => {
  async function patch(c: TestCluster, ns: string, spec: Record<string, unknown>): Promise<string> {
    const r = await c.kubectl([
      "patch",
      "-n",
      ns,
      "accessrequest/req",
      "--type=merge",
      "-p",
      JSON.stringify({ spec }),
    ]);
    return r.code === 0 ? "" : r.stderr;
  }

  test("spec is fixed except revoked, which may only go from false to true", async () => {
    const c = testCluster();
    const ns = await c.createNamespace("immutable");
    await ok(c, ["create", "-f", "-"], inNamespace(named(exampleRequest, "req"), ns));

    expect(await patch(c, ns, { duration: "PT2H" })).toMatch(/spec\.duration.*immutable/);
    expect(await patch(c, ns, { policyName: "other" })).toMatch(/spec\.policyName.*immutable/);
    expect(await patch(c, ns, { sourceAddressPrefix: "203.0.113.8/32" })).toMatch(
      /spec\.sourceAddressPrefix.*immutable/,
    );
    expect(await patch(c, ns, { ports: [3389] })).toMatch(/spec\.ports.*immutable/);

    expect(await patch(c, ns, { revoked: false })).toBe("");
    expect(await patch(c, ns, { revoked: true })).toBe("");
    expect(await patch(c, ns, { revoked: false })).toMatch(/spec\.revoked.*(true to false|cannot go back)/);
    const r = await getJson<{ spec: { revoked: boolean; duration: string } }>(c, ns, "accessrequest/req");
    expect(r.spec).toMatchObject({ revoked: true, duration: "PT1H" });
  });
});

describe("RBAC on the new kinds", () => {
  test("alice and bob (no bindings yet) cannot create or read requests and policies", async () => {
    const c = testCluster();
    const ns = await c.createNamespace("rbac-crd");
    for (const user of ["alice", "bob"] as const) {
      const create = await c.kubectl(["create", "-f", "-"], {
        as: user,
        input: inNamespace(exampleRequest, ns),
      });
      expect(create.code).not.toBe(0);
      expect(create.stderr).toContain(
        `forbidden: User "${user}" cannot create resource "accessrequests" in API group "jit.drawbridge.dev"`,
      );
      const list = await c.kubectl(["get", "jitpolicies", "-n", ns], { as: user });
      expect(list.stderr).toContain(`User "${user}" cannot list resource "jitpolicies"`);
    }
    // admin can: the refusal above is authorization, not a bad object.
    await ok(c, ["create", "-f", "-"], inNamespace(exampleRequest, ns));
  });
});
