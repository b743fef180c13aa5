// schemas/ is generated from crds/; this fails when a CRD changed and the schemas were not
// regenerated (`node scripts/gen-json-schemas.ts`). The schemas must also accept the examples and
// refuse an unknown field, as kubeconform -strict would.
import { describe, expect, test } from "@jest/globals";
import { Ajv } from "ajv";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { crdJsonSchemas, renderSchema } from "../../../src/gitops/schema/json-schema.ts";
import { REPO_ROOT, loadCrds } from "../../../src/gitops/validate/crd-schema.ts";

const generated = crdJsonSchemas(loadCrds());
const dir = join(REPO_ROOT, "schemas", "jit.drawbridge.dev");

describe("published JSON Schemas", () => {
  test("one schema per CRD version, and no stale file", () => {
    expect(readdirSync(dir).sort()).toEqual(generated.map((g) => g.path.split("/")[1]).sort());
  });

  test.each(generated)("$path matches crds/", (g) => {
    expect(readFileSync(join(REPO_ROOT, "schemas", g.path), "utf8")).toBe(renderSchema(g));
  });

  test("the examples pass and a typo fails", () => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const byKind = new Map(
      generated.map((g) => [String((g.schema["title"] as string).split(" ")[0]), ajv.compile(g.schema)]),
    );
    const docs = ["policy.yaml", "request.yaml", "scope.yaml"].flatMap((f) =>
      parseAllDocuments(readFileSync(join(REPO_ROOT, "examples", f), "utf8")).map(
        (d) => d.toJS() as Record<string, unknown>,
      ),
    );
    for (const d of docs) {
      const validate = byKind.get(String(d["kind"]));
      expect(validate?.(d)).toBe(true);
    }
    const policy = docs.find((d) => d["kind"] === "JitPolicy") as {
      spec: { ports: Record<string, unknown>[] };
    };
    const typo = structuredClone(policy);
    (typo.spec.ports[0] as Record<string, unknown>)["maxDuraton"] = "PT1H";
    expect(byKind.get("JitPolicy")?.(typo)).toBe(false);
  });
});
