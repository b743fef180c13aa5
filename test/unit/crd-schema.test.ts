// Offline checks of crds/*.yaml: the rules the API server and `kubectl explain` depend on (a description
// on every field, bounded strings and lists so CEL cost estimates stay finite, messages on every CEL
// rule) plus the defaults and names the rest of drawbridge relies on. The examples and the valid
// fixtures are validated against the structural part of the schemas with ajv (CEL is checked by the
// real API server in the admission tests).
import { describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse, parseAllDocuments } from "yaml";

type Schema = Record<string, unknown> & {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  default?: unknown;
  maxLength?: number;
  maxItems?: number;
  enum?: unknown[];
  "x-kubernetes-validations"?: { rule?: string; message?: string; fieldPath?: string }[];
};

interface Crd {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; shortNames?: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; jsonPath: string; type: string }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

const root = join(import.meta.dirname, "..", "..");
const load = (file: string): Crd => parse(readFileSync(join(root, "crds", file), "utf8")) as Crd;
const crds = {
  JitPolicy: load("jitpolicies.jit.drawbridge.dev.yaml"),
  AccessRequest: load("accessrequests.jit.drawbridge.dev.yaml"),
  JitScope: load("jitscopes.jit.drawbridge.dev.yaml"),
  AccessApproval: load("accessapprovals.jit.drawbridge.dev.yaml"),
  JitNotifier: load("jitnotifiers.jit.drawbridge.dev.yaml"),
};
/** JitScope is cluster-scoped: only cluster admins write it. */
const SCOPES: Record<keyof typeof crds, string> = {
  JitPolicy: "Namespaced",
  AccessRequest: "Namespaced",
  JitScope: "Cluster",
  AccessApproval: "Namespaced",
  JitNotifier: "Namespaced",
};

function version(crd: Crd): Crd["spec"]["versions"][number] {
  const v = crd.spec.versions[0];
  if (v === undefined) throw new Error("CRD has no version");
  return v;
}
const schemaOf = (crd: Crd): Schema => version(crd).schema.openAPIV3Schema;

/** Every schema node with its dotted path; the root's metadata is the API server's own ObjectMeta. */
function walk(node: Schema, path: string, out: [string, Schema][]): [string, Schema][] {
  out.push([path, node]);
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    if (path === "" && name === "metadata") continue;
    walk(child, path === "" ? name : `${path}.${name}`, out);
  }
  if (node.items !== undefined) walk(node.items, `${path}[]`, out);
  return out;
}

/** Follows a dotted path of property names (`[]` steps into list items). */
function at(node: Schema, path: string): Schema {
  let cur = node;
  for (const step of path.split(".")) {
    const isItems = step.endsWith("[]");
    const name = isItems ? step.slice(0, -2) : step;
    const next = cur.properties?.[name];
    if (next === undefined) throw new Error(`no property ${path}`);
    cur = isItems ? (next.items ?? {}) : next;
  }
  return cur;
}

describe.each(Object.entries(crds))("%s CRD", (kind, crd) => {
  const nodes = walk(schemaOf(crd), "", []);

  it("serves and stores jit.drawbridge.dev/v1alpha1, in its scope, with a status subresource", () => {
    expect(crd.spec.group).toBe("jit.drawbridge.dev");
    expect(crd.spec.scope).toBe(SCOPES[kind as keyof typeof crds]);
    expect(crd.spec.names.kind).toBe(kind);
    expect(crd.spec.versions).toHaveLength(1);
    expect(version(crd)).toMatchObject({ name: "v1alpha1", served: true, storage: true });
    expect(version(crd).subresources?.status).toEqual({});
    expect(crd.spec.names.categories).toEqual(["drawbridge"]);
  });

  it("describes every field", () => {
    const missing = nodes.filter(([, n]) => (n.description ?? "").trim().length < 5).map(([p]) => p);
    expect(missing).toEqual([]);
  });

  it("bounds every string with maxLength and every list with maxItems", () => {
    // apiVersion and kind are checked by the API server itself before the schema applies.
    const unbounded = nodes
      .filter(([p]) => p !== "apiVersion" && p !== "kind")
      .filter(
        ([, n]) =>
          (n.type === "string" && n.maxLength === undefined) ||
          (n.type === "array" && n.maxItems === undefined),
      )
      .map(([p]) => p);
    expect(unbounded).toEqual([]);
  });

  it("gives every node a type and every CEL rule a message that a person can act on", () => {
    for (const [path, node] of nodes) {
      expect([path, typeof node.type]).toEqual([path, "string"]);
      for (const v of node["x-kubernetes-validations"] ?? []) {
        expect([path, typeof v.rule]).toEqual([path, "string"]);
        expect([path, (v.message ?? "").length > 15]).toEqual([path, true]);
      }
    }
  });

  it("keeps required fields among the declared properties", () => {
    for (const [path, node] of nodes) {
      for (const name of node.required ?? []) {
        expect([path, name, node.properties?.[name] !== undefined]).toEqual([path, name, true]);
      }
    }
  });
});

describe("JitPolicy schema", () => {
  const s = schemaOf(crds.JitPolicy);

  it("defaults ports to 22, 3389, 5985 and 5986 with protocol Any and maxDuration PT3H", () => {
    expect(at(s, "spec.ports").default).toEqual(
      [22, 3389, 5985, 5986].map((number) => ({
        number,
        protocol: "Any",
        maxDuration: "PT3H",
      })),
    );
  });

  it("defaults a listed port to TCP and PT3H, the band to 100..199 and the scope to All", () => {
    expect(at(s, "spec.ports[].protocol").default).toBe("TCP");
    expect(at(s, "spec.ports[].protocol").enum).toEqual(["TCP", "UDP", "Any"]);
    expect(at(s, "spec.ports[].maxDuration").default).toBe("PT3H");
    expect(at(s, "spec.priorityRange").default).toEqual({ from: 100, to: 199 });
    expect(at(s, "spec.nsgScope").default).toBe("All");
    expect(at(s, "spec.nsgScope").enum).toEqual(["All", "NetworkInterface", "Subnet"]);
  });

  it("limits targets to 1..100, ports to 1..65535 and the band to 100..4096", () => {
    expect(at(s, "spec.targets")).toMatchObject({ minItems: 1, maxItems: 100 });
    expect(at(s, "spec.ports[].number")).toMatchObject({ minimum: 1, maximum: 65535 });
    expect(at(s, "spec.priorityRange.from")).toMatchObject({ minimum: 100, maximum: 4096 });
    expect(at(s, "spec.priorityRange.to")).toMatchObject({ minimum: 100, maximum: 4096 });
    expect(at(s, "spec.ports")).toMatchObject({
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["number", "protocol"],
    });
  });

  it("prints Ready, Targets, Ports and Age and answers to jp", () => {
    const cols = (version(crds.JitPolicy).additionalPrinterColumns ?? []).map((c) => c.name);
    expect(cols).toEqual(expect.arrayContaining(["Ready", "Targets", "Ports", "Age"]));
    expect(crds.JitPolicy.spec.names.shortNames).toEqual(["jp"]);
  });
});

describe("AccessRequest schema", () => {
  const s = schemaOf(crds.AccessRequest);

  it("defaults revoked to false and requires what a grant needs", () => {
    expect(at(s, "spec.revoked").default).toBe(false);
    expect(at(s, "spec").required).toEqual(
      expect.arrayContaining(["policyName", "ports", "sourceAddressPrefix", "duration", "requester"]),
    );
    expect(at(s, "spec.justification")).toMatchObject({ minLength: 1, maxLength: 512 });
  });

  it("makes every spec field immutable except revoked, which may only go from false to true", () => {
    const rules = at(s, "spec")["x-kubernetes-validations"] ?? [];
    const guarded = rules.filter((r) => r.rule?.includes("oldSelf")).map((r) => r.fieldPath);
    const fields = Object.keys(at(s, "spec").properties ?? {}).map((f) => `.${f}`);
    expect(guarded.sort()).toEqual(fields.sort());
  });

  it("prints Phase, Policy, Ports, Source, Expires and Age and answers to ar", () => {
    const cols = (version(crds.AccessRequest).additionalPrinterColumns ?? []).map((c) => c.name);
    expect(cols).toEqual(expect.arrayContaining(["Phase", "Policy", "Ports", "Source", "Expires", "Age"]));
    expect(crds.AccessRequest.spec.names.shortNames).toEqual(["ar"]);
  });
});

describe("JitScope schema", () => {
  const s = schemaOf(crds.JitScope);
  type Rule = { rule?: string; message?: string };
  const rules = (path: string): Rule[] => at(s, path)["x-kubernetes-validations"] ?? [];

  it("requires namespaces and azureScopes, and names or a selector", () => {
    expect(at(s, "spec").required).toEqual(["namespaces", "azureScopes"]);
    expect(rules("spec.namespaces").map((r) => r.rule)).toEqual(["has(self.names) || has(self.selector)"]);
    expect(rules("spec.namespaces")[0]?.message).toContain("selector: {}");
  });

  it("limits names to 1..100 DNS labels and azureScopes to 1..50 prefixes of 512 characters", () => {
    expect(at(s, "spec.namespaces.names")).toMatchObject({ minItems: 1, maxItems: 100 });
    expect(at(s, "spec.namespaces.names[]")).toMatchObject({ maxLength: 63 });
    expect(at(s, "spec.azureScopes")).toMatchObject({ minItems: 1, maxItems: 50 });
    expect(at(s, "spec.azureScopes[]")).toMatchObject({ maxLength: 512 });
    const messages = rules("spec.azureScopes[]").map((r) => r.message ?? "");
    expect(messages).toEqual([
      expect.stringContaining("must start with /subscriptions/<subscription-guid>"),
      expect.stringContaining("must not end with '/'"),
      expect.stringContaining("empty path segment"),
      expect.stringContaining("whitespace"),
    ]);
  });

  it("takes a metav1.LabelSelector with the four operators", () => {
    expect(Object.keys(at(s, "spec.namespaces.selector").properties ?? {}).sort()).toEqual([
      "matchExpressions",
      "matchLabels",
    ]);
    expect(at(s, "spec.namespaces.selector.matchExpressions[].operator").enum).toEqual([
      "In",
      "NotIn",
      "Exists",
      "DoesNotExist",
    ]);
    expect(at(s, "spec.namespaces.selector.matchLabels")).toMatchObject({
      maxProperties: 32,
      additionalProperties: { type: "string", maxLength: 63 },
    });
  });

  it("bounds the ceilings like a JitPolicy, with no defaults", () => {
    const policy = schemaOf(crds.JitPolicy);
    expect(at(s, "spec.ceilings.priorityRange.from")).toMatchObject({ minimum: 100, maximum: 4096 });
    expect(at(s, "spec.ceilings.priorityRange.to")).toMatchObject({ minimum: 100, maximum: 4096 });
    expect(rules("spec.ceilings.priorityRange").map((r) => r.rule)).toEqual(["self.from <= self.to"]);
    expect(rules("spec.ceilings.maxDuration").map((r) => r.rule)).toEqual(
      rules("spec.ceilings.maxDuration").map(() => expect.any(String)),
    );
    // The same duration rules as a policy port's maxDuration, so a ceiling reads like what it bounds.
    expect(rules("spec.ceilings.maxDuration")).toEqual(
      at(policy, "spec.ports[].maxDuration")["x-kubernetes-validations"],
    );
    expect(rules("spec.ceilings.allowedSourceAddressPrefixes[]")).toEqual(
      at(policy, "spec.ports[].allowedSourceAddressPrefixes[]")["x-kubernetes-validations"],
    );
    expect(at(s, "spec.ceilings.allowedSourceAddressPrefixes")).toMatchObject({ minItems: 1, maxItems: 100 });
    const defaults = walk(at(s, "spec"), "spec", []).filter(([, n]) => n.default !== undefined);
    expect(defaults.map(([p]) => p)).toEqual([]);
  });

  it("prints Namespaces, Scopes and Age and answers to jsc", () => {
    const cols = (version(crds.JitScope).additionalPrinterColumns ?? []).map((c) => [c.name, c.jsonPath]);
    expect(cols).toEqual(
      expect.arrayContaining([
        ["Namespaces", ".spec.namespaces.names"],
        ["Scopes", ".spec.azureScopes"],
        ["Age", ".metadata.creationTimestamp"],
      ]),
    );
    expect(crds.JitScope.spec.names).toMatchObject({ plural: "jitscopes", shortNames: ["jsc"] });
  });

  it("reports the bound namespaces in status", () => {
    expect(Object.keys(at(s, "status").properties ?? {}).sort()).toEqual([
      "conditions",
      "namespaces",
      "observedGeneration",
    ]);
  });
});

/** The structural part of a CRD schema as plain JSON Schema (CEL and list-type extensions dropped). */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith("x-kubernetes-") || k === "default") continue;
    out[k] =
      k === "properties"
        ? Object.fromEntries(Object.entries(v as object).map(([p, c]) => [p, toJsonSchema(c)]))
        : toJsonSchema(v);
  }
  return out;
}

function documents(dir: string): Record<string, unknown>[] {
  return readdirSync(join(root, dir))
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(root, dir, f), "utf8")).map(
        (d) => d.toJS() as Record<string, unknown>,
      ),
    )
    .filter((d) => d.apiVersion === "jit.drawbridge.dev/v1alpha1");
}

describe("structural validation of the examples and the valid fixtures", () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat("date-time", true);
  ajv.addFormat("int32", true);
  ajv.addFormat("int64", true);
  const validators = {
    JitPolicy: ajv.compile(toJsonSchema(schemaOf(crds.JitPolicy)) as object),
    AccessRequest: ajv.compile(toJsonSchema(schemaOf(crds.AccessRequest)) as object),
    JitScope: ajv.compile(toJsonSchema(schemaOf(crds.JitScope)) as object),
    AccessApproval: ajv.compile(toJsonSchema(schemaOf(crds.AccessApproval)) as object),
    JitNotifier: ajv.compile(toJsonSchema(schemaOf(crds.JitNotifier)) as object),
  };
  const docs = [...documents("examples"), ...documents("test/fixtures/valid")];

  it("finds policies and requests to check", () => {
    expect(docs.filter((d) => d.kind === "JitPolicy").length).toBeGreaterThanOrEqual(3);
    expect(docs.filter((d) => d.kind === "AccessRequest").length).toBeGreaterThanOrEqual(3);
    expect(docs.filter((d) => d.kind === "JitScope").length).toBeGreaterThanOrEqual(3);
    expect(docs.every((d) => typeof d.kind === "string" && d.kind in validators)).toBe(true);
  });

  it.each(docs.map((d) => [`${String(d.kind)} ${JSON.stringify(d.metadata ?? {})}`, d] as const))(
    "%s fits the schema",
    (_name, doc) => {
      const validate = validators[doc.kind as keyof typeof validators];
      expect(validate(doc) ? [] : validate.errors).toEqual([]);
    },
  );

  it("rejects a structurally broken policy, so the check can fail", () => {
    const bad = {
      apiVersion: "jit.drawbridge.dev/v1alpha1",
      kind: "JitPolicy",
      spec: { targets: [], ports: [{ number: 0 }] },
    };
    expect(validators.JitPolicy(bad)).toBe(false);
  });

  it("rejects a structurally broken scope, so the check can fail", () => {
    const bad = {
      apiVersion: "jit.drawbridge.dev/v1alpha1",
      kind: "JitScope",
      spec: { namespaces: { names: [] }, azureScopes: [], ceilings: { priorityRange: { from: 99 } } },
    };
    expect(validators.JitScope(bad)).toBe(false);
    expect(validators.JitScope.errors?.map((e) => e.instancePath).sort()).toEqual([
      "/spec/azureScopes",
      "/spec/ceilings/priorityRange",
      "/spec/ceilings/priorityRange/from",
      "/spec/namespaces/names",
    ]);
  });
});

interface BadCase {
  name: string;
  description: string;
  stage: "admission" | "semantic";
  field: string;
  reason?: string;
  policy?: Record<string, unknown>;
  object: Record<string, unknown> & { kind: "JitPolicy" | "AccessRequest"; metadata: { name: string } };
}

describe("the bad-input corpus", () => {
  const cases = parse(readFileSync(join(root, "test/fixtures/bad-input/cases.yaml"), "utf8")) as BadCase[];
  const reasons = (
    parse(readFileSync(join(root, "test/fixtures/bad-input/reasons.yaml"), "utf8")) as {
      name: string;
      stage: string;
    }[]
  )
    .filter((r) => r.stage === "semantic")
    .map((r) => r.name);
  const ajv = new Ajv({ strict: false });
  ajv.addFormat("date-time", true);
  ajv.addFormat("int32", true);
  ajv.addFormat("int64", true);
  const policyOk = ajv.compile(toJsonSchema(schemaOf(crds.JitPolicy)) as object);
  const requestOk = ajv.compile(toJsonSchema(schemaOf(crds.AccessRequest)) as object);

  it("holds at least 45 uniquely named kebab-case cases of both stages", () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    for (const c of cases) expect([c.name, /^[a-z0-9]+(-[a-z0-9]+)*$/.test(c.name)]).toEqual([c.name, true]);
    expect(cases.filter((c) => c.stage === "semantic").length).toBeGreaterThanOrEqual(10);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s names a field of its kind's schema", (_n, c) => {
    expect(c.description.length).toBeGreaterThan(5);
    expect(c.object.apiVersion).toBe("jit.drawbridge.dev/v1alpha1");
    expect(c.object.metadata).toEqual({ name: c.name });
    const steps = c.field.replace(/\[\d+\]/g, "").split(".");
    let node: Schema | undefined = schemaOf(crds[c.object.kind]);
    for (const step of steps) node = node?.properties?.[step] ?? node?.items?.properties?.[step];
    expect([c.field, node !== undefined]).toEqual([c.field, true]);
  });

  it("gives every semantic case a reason from reasons.yaml and a structurally valid object", () => {
    for (const c of cases.filter((x) => x.stage === "semantic")) {
      expect([c.name, reasons.includes(c.reason ?? "")]).toEqual([c.name, true]);
      const ok = c.object.kind === "JitPolicy" ? policyOk(c.object) : requestOk(c.object);
      expect([c.name, ok]).toEqual([c.name, true]);
      if (c.policy !== undefined) {
        const policy = { apiVersion: c.object.apiVersion, kind: "JitPolicy", spec: c.policy };
        expect([c.name, policyOk(policy)]).toEqual([c.name, true]);
      }
    }
  });
});
