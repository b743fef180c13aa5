// src/api/types.ts and crds/*.yaml describe the same API twice; this test fails when they disagree.
// The TypeScript side is read with the compiler API (not regexes), the CRD side with the yaml parser,
// and for each interface below the property names are compared in both directions, along with
// requiredness: a field the type declares required must be required or defaulted by the CRD, and a
// field the CRD requires must be required in the type.
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { parse } from "yaml";

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
}

interface TsProperty {
  optional: boolean;
  /** The property's type as written, e.g. "PolicyTarget[]" or "number". */
  type: string;
}

const root = join(import.meta.dirname, "..", "..");

/** Property names, optionality and written types of every interface declared in a TypeScript file. */
function readInterfaces(file: string): Map<string, Map<string, TsProperty>> {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out = new Map<string, Map<string, TsProperty>>();
  for (const stmt of source.statements) {
    if (!ts.isInterfaceDeclaration(stmt)) continue;
    const props = new Map<string, TsProperty>();
    for (const member of stmt.members) {
      if (!ts.isPropertySignature(member) || member.type === undefined) continue;
      props.set(member.name.getText(source), {
        optional: member.questionToken !== undefined,
        type: member.type.getText(source),
      });
    }
    out.set(stmt.name.text, props);
  }
  return out;
}

/** The string literals of a type alias such as `type Protocol = "TCP" | "UDP" | "Any"`. */
function readUnion(file: string, name: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  for (const stmt of source.statements) {
    if (!ts.isTypeAliasDeclaration(stmt) || stmt.name.text !== name) continue;
    if (!ts.isUnionTypeNode(stmt.type)) break;
    return stmt.type.types.map((t) =>
      ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : t.getText(source),
    );
  }
  throw new Error(`no union type ${name} in ${file}`);
}

function crdSchema(file: string): Schema {
  const crd = parse(readFileSync(join(root, "crds", file), "utf8")) as {
    spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
  };
  const schema = crd.spec.versions[0]?.schema.openAPIV3Schema;
  if (schema === undefined) throw new Error(`${file} has no schema`);
  return schema;
}

/** Follows a dotted path; a step ending in [] enters the list's items. */
function at(schema: Schema, path: string): Schema {
  let node = schema;
  for (const step of path.split(".")) {
    const list = step.endsWith("[]");
    const next = node.properties?.[list ? step.slice(0, -2) : step];
    if (next === undefined) throw new Error(`schema has no ${path}`);
    node = list ? (next.items ?? {}) : next;
  }
  return node;
}

const typesFile = join(root, "src/api/types.ts");
const interfaces = readInterfaces(typesFile);
const policy = crdSchema("jitpolicies.jit.drawbridge.dev.yaml");
const request = crdSchema("accessrequests.jit.drawbridge.dev.yaml");
const scope = crdSchema("jitscopes.jit.drawbridge.dev.yaml");
const approval = crdSchema("accessapprovals.jit.drawbridge.dev.yaml");
const notifier = crdSchema("jitnotifiers.jit.drawbridge.dev.yaml");

/** Every interface of the API and the schema node that must carry the same fields. */
const pairs: [string, string, Schema][] = [
  ["JitPolicySpec", "spec", policy],
  ["PolicyTarget", "spec.targets[]", policy],
  ["PolicyPort", "spec.ports[]", policy],
  ["PriorityRange", "spec.priorityRange", policy],
  ["SourcePrefixLengths", "spec.ports[].minimumSourcePrefixLength", policy],
  ["SourcePrefixLengths", "spec.ports[].sourceUnionPrefixLength", policy],
  ["JitPolicyStatus", "status", policy],
  ["ResolvedTargetStatus", "status.targets[]", policy],
  ["Condition", "status.conditions[]", policy],
  ["AccessRequestSpec", "spec", request],
  ["AccessRequestStatus", "status", request],
  ["GrantRuleStatus", "status.rules[]", request],
  ["ApprovedGrant", "status.approved", request],
  ["ApprovedPort", "status.approved.ports[]", request],
  ["Condition", "status.conditions[]", request],
  ["JitScopeSpec", "spec", scope],
  ["ScopeNamespaces", "spec.namespaces", scope],
  ["LabelSelector", "spec.namespaces.selector", scope],
  ["LabelSelectorRequirement", "spec.namespaces.selector.matchExpressions[]", scope],
  ["ScopeCeilings", "spec.ceilings", scope],
  ["PriorityRange", "spec.ceilings.priorityRange", scope],
  ["JitScopeStatus", "status", scope],
  ["Condition", "status.conditions[]", scope],
  ["ApprovalPolicy", "spec.approval", policy],
  ["ApprovalPolicy", "spec.ports[].approval", policy],
  ["JustificationRule", "spec.justification", policy],
  ["ApprovalRecord", "status.approvals[]", request],
  ["AccessApprovalSpec", "spec", approval],
  ["JitNotifierSpec", "spec", notifier],
];

/** The JSON-schema type a TypeScript property type should map to. */
function expectedSchemaType(tsType: string): string {
  if (tsType.endsWith("[]")) return "array";
  if (tsType === "number") return "integer";
  if (tsType === "boolean") return "boolean";
  if (
    /^(string|Protocol|NsgScope|AccessRequestPhase|LabelSelectorOperator|ApprovalDecision|NotifierFormat|"[^"]*"( \| "[^"]*")*)$/.test(
      tsType,
    )
  )
    return "string";
  return "object";
}

describe.each(pairs)("%s matches the CRD schema at %s", (name, path, schema) => {
  const props = interfaces.get(name);
  const node = at(schema, path);
  const schemaFields = Object.keys(node.properties ?? {}).sort();

  it(`declares the same fields as ${path}`, () => {
    expect(props).toBeDefined();
    expect([...(props?.keys() ?? [])].sort()).toEqual(schemaFields);
  });

  it("agrees on which fields are required", () => {
    const required = new Set(node.required ?? []);
    for (const [field, p] of props ?? []) {
      const child = node.properties?.[field];
      // Required in the type: the CRD must require it or fill it in by default.
      if (!p.optional)
        expect([field, required.has(field) || child?.default !== undefined]).toEqual([field, true]);
      // Required by the CRD: the type must not call it optional.
      if (required.has(field)) expect([field, p.optional]).toEqual([field, false]);
    }
  });

  it("agrees on each field's kind of value", () => {
    for (const [field, p] of props ?? []) {
      expect([field, node.properties?.[field]?.type]).toEqual([field, expectedSchemaType(p.type)]);
    }
  });
});

describe("enumerations", () => {
  it.each([
    ["Protocol", "spec.ports[].protocol", policy],
    ["Protocol", "status.rules[].protocol", request],
    ["Protocol", "status.approved.ports[].protocol", request],
    ["NsgScope", "spec.nsgScope", policy],
    ["AccessRequestPhase", "status.phase", request],
    ["LabelSelectorOperator", "spec.namespaces.selector.matchExpressions[].operator", scope],
  ] as const)("%s matches the enum at %s", (name, path, schema) => {
    expect(at(schema, path).enum).toEqual(readUnion(typesFile, name));
  });
});

describe("the reader itself", () => {
  it("sees optional and required members, so a drift cannot hide behind a parse failure", () => {
    expect(interfaces.get("PolicyPort")?.get("number")).toEqual({ optional: false, type: "number" });
    expect(interfaces.get("PolicyPort")?.get("allowedSourceAddressPrefixes")).toEqual({
      optional: true,
      type: "string[]",
    });
    expect(interfaces.size).toBeGreaterThanOrEqual(pairs.length - 1);
  });
});
