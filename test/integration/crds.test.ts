// The CRDs as the API server serves them: established, documented (`kubectl explain`), printer
// columns, the status subresource, immutability of AccessRequest, JitScope validation, and RBAC on
// the new kinds.
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
// Cluster-scoped, so kept apart from the namespaced kinds listed with -n above.
const scopeCrd = loadDocuments<Crd>(repoPath("crds/jitscopes.jit.drawbridge.dev.yaml"))[0]!;
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

  test.each([...crds, scopeCrd].map((crd) => [crd.metadata.name]))(
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
    // A renewal link cannot be added, changed or dropped later (ADR 0013).
    expect(await patch(c, ns, { supersedes: "older" })).toMatch(/spec\.supersedes.*immutable/);

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

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001";
const RG = `${SUB}/resourceGroups/demo-rg`;

/** A JitScope named `name` (cluster-scoped, so every test picks a name no other test uses). */
function scopeManifest(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitScope",
    metadata: { name },
    spec,
  });
}

const suffix = (): string => Math.random().toString(36).slice(2, 8);

describe("JitScope", () => {
  const valid = { namespaces: { names: ["team-a"] }, azureScopes: [RG] };

  test("is cluster-scoped, documented, printed with its columns and has a status subresource", async () => {
    const c = testCluster();
    const name = `crd-scope-${suffix()}`;
    const spec = {
      namespaces: { names: ["team-a", "team-z"], selector: { matchLabels: { "drawbridge.dev/team": "a" } } },
      azureScopes: [RG, `${SUB}/resourceGroups/other-rg`],
      ceilings: {
        priorityRange: { from: 100, to: 1999 },
        maxDuration: "PT4H",
        allowedSourceAddressPrefixes: ["203.0.113.0/24"],
      },
    };
    await ok(c, ["create", "-f", "-"], scopeManifest(name, spec));
    try {
      const obj = JSON.parse(await ok(c, ["get", "jsc", name, "-o", "json"])) as {
        metadata: { namespace?: string; generation: number };
        spec: Record<string, unknown>;
      };
      expect(obj.metadata.namespace).toBeUndefined();
      expect(obj.spec).toEqual(spec);

      const columns = scopeCrd.spec.versions[0]!.additionalPrinterColumns!;
      const table = await ok(c, ["get", "jitscope", name]);
      const [head, row] = table.trim().split("\n") as [string, string];
      expect(head.trim().split(/\s{2,}/)).toEqual([
        "NAME",
        ...columns.filter((x) => !x.priority).map((x) => x.name.toUpperCase()),
      ]);
      expect(row).toContain("team-a");
      expect(row).toContain(RG);

      // status: written through the subresource only, and shown in the wide column.
      await ok(c, [
        ...["patch", "jitscope", name, "--subresource=status", "--type=merge"],
        ...[
          "-p",
          JSON.stringify({
            status: { observedGeneration: 1, namespaces: ["team-a"] },
            spec: { azureScopes: [SUB] },
          }),
        ],
      ]);
      await ok(c, ["patch", "jitscope", name, "--type=merge", "-p", '{"status":{"namespaces":["team-q"]}}']);
      const after = JSON.parse(await ok(c, ["get", "jitscope", name, "-o", "json"])) as {
        spec: { azureScopes: string[] };
        status: { namespaces: string[] };
      };
      expect(after.spec.azureScopes).toEqual(spec.azureScopes);
      expect(after.status.namespaces).toEqual(["team-a"]);
      const wide = await ok(c, ["get", "jitscope", name, "-o", "wide"]);
      expect(
        wide
          .split("\n")[0]!
          .trim()
          .split(/\s{2,}/),
      ).toEqual(["NAME", ...columns.map((x) => x.name.toUpperCase())]);

      const explain = squash(await ok(c, ["explain", "jitscope.spec"]));
      const specSchema = scopeCrd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
      expect(explain).toContain(squash(specSchema.description!));
      for (const [field, schema] of Object.entries(specSchema.properties ?? {})) {
        expect(explain).toContain(field);
        expect(explain).toContain(squash(schema.description!));
      }
      const selector = squash(await ok(c, ["explain", "jsc.spec.namespaces.selector"]));
      expect(selector).toContain("matchExpressions");
    } finally {
      await ok(c, ["delete", "jitscope", name, "--wait=false"]);
    }
  });

  test.concurrent.each<[string, Record<string, unknown>, string, RegExp]>([
    ["no namespaces", { azureScopes: [RG] }, "spec.namespaces", /Required value/],
    [
      "neither names nor selector",
      { ...valid, namespaces: {} },
      "spec.namespaces",
      /must set names .*selector/,
    ],
    [
      "an empty names list",
      { ...valid, namespaces: { names: [] } },
      "spec.namespaces.names",
      /at least 1 item/,
    ],
    [
      "a bad namespace name",
      { ...valid, namespaces: { names: ["Team_A"] } },
      "spec.namespaces.names[0]",
      /must be a namespace name.*Team_A/,
    ],
    ["no azureScopes", { namespaces: { names: ["team-a"] } }, "spec.azureScopes", /Required value/],
    [
      "an azureScope without a subscription guid",
      { ...valid, azureScopes: ["/subscriptions/prod/resourceGroups/rg"] },
      "spec.azureScopes[0]",
      /must start with \/subscriptions\/<subscription-guid>/,
    ],
    [
      "an azureScope not starting with /subscriptions/",
      { ...valid, azureScopes: ["/providers/Microsoft.Network"] },
      "spec.azureScopes[0]",
      /must start with \/subscriptions\//,
    ],
    [
      "a trailing slash",
      { ...valid, azureScopes: [`${RG}/`] },
      "spec.azureScopes[0]",
      /must not end with '\/'/,
    ],
    [
      "an empty segment",
      { ...valid, azureScopes: [`${SUB}//resourceGroups/rg`] },
      "spec.azureScopes[0]",
      /empty path segment/,
    ],
    [
      "whitespace",
      { ...valid, azureScopes: [`${SUB}/resourceGroups/my rg`] },
      "spec.azureScopes[0]",
      /whitespace/,
    ],
    [
      "a prefix listed twice in other case",
      { ...valid, azureScopes: [RG, RG.toUpperCase()] },
      "spec.azureScopes",
      /same prefix twice/,
    ],
    [
      "a band with from > to",
      { ...valid, ceilings: { priorityRange: { from: 2000, to: 100 } } },
      "spec.ceilings.priorityRange.to",
      /greater than or equal to spec\.ceilings\.priorityRange\.from/,
    ],
    [
      "a band below 100",
      { ...valid, ceilings: { priorityRange: { from: 50, to: 100 } } },
      "spec.ceilings.priorityRange.from",
      /greater than or equal to 100/,
    ],
    [
      "a malformed duration",
      { ...valid, ceilings: { maxDuration: "4 hours" } },
      "spec.ceilings.maxDuration",
      /must be an ISO-8601 duration.*4 hours/,
    ],
    [
      "a duration above P1D",
      { ...valid, ceilings: { maxDuration: "P2D" } },
      "spec.ceilings.maxDuration",
      /must be between PT1M .* and P1D/,
    ],
    [
      "a source with host bits",
      { ...valid, ceilings: { allowedSourceAddressPrefixes: ["203.0.113.7/24"] } },
      "spec.ceilings.allowedSourceAddressPrefixes[0]",
      /host bits set/,
    ],
    [
      "a hostname source",
      { ...valid, ceilings: { allowedSourceAddressPrefixes: ["vpn.example.com"] } },
      "spec.ceilings.allowedSourceAddressPrefixes[0]",
      /IPv4\/IPv6 address or CIDR/,
    ],
    [
      "In without values",
      { ...valid, namespaces: { selector: { matchExpressions: [{ key: "tier", operator: "In" }] } } },
      "spec.namespaces.selector.matchExpressions[0].values",
      /at least one label value/,
    ],
    [
      "Exists with values",
      {
        ...valid,
        namespaces: { selector: { matchExpressions: [{ key: "tier", operator: "Exists", values: ["x"] }] } },
      },
      "spec.namespaces.selector.matchExpressions[0].values",
      /must be empty/,
    ],
    [
      "an unknown operator",
      {
        ...valid,
        namespaces: { selector: { matchExpressions: [{ key: "tier", operator: "Gt", values: ["1"] }] } },
      },
      "spec.namespaces.selector.matchExpressions[0].operator",
      /Unsupported value/,
    ],
    [
      "a bad label key",
      { ...valid, namespaces: { selector: { matchLabels: { "a/b/c": "x" } } } },
      "spec.namespaces.selector.matchLabels",
      /label key/,
    ],
  ])("refuses %s, naming the field", async (_name, spec, field, why) => {
    const r = await testCluster().kubectl(["create", "--dry-run=server", "-f", "-"], {
      input: scopeManifest(`bad-${suffix()}`, spec),
    });
    expect(r.code).not.toBe(0);
    expect({ stderr: r.stderr, names: r.stderr.includes(`${field}:`) }).toEqual({
      stderr: r.stderr,
      names: true,
    });
    expect(r.stderr).toMatch(why);
  });

  test("only cluster admins may write it: alice and bob cannot even read it", async () => {
    const c = testCluster();
    for (const user of ["alice", "bob"] as const) {
      const create = await c.kubectl(["create", "-f", "-"], {
        as: user,
        input: scopeManifest(`rbac-${suffix()}`, valid),
      });
      expect(create.code).not.toBe(0);
      expect(create.stderr).toContain(
        `User "${user}" cannot create resource "jitscopes" in API group "jit.drawbridge.dev" at the cluster scope`,
      );
      const list = await c.kubectl(["get", "jitscopes"], { as: user });
      expect(list.stderr).toContain(`User "${user}" cannot list resource "jitscopes"`);
    }
    await ok(c, ["create", "--dry-run=server", "-f", "-"], scopeManifest(`rbac-${suffix()}`, valid));
  });
});
