// values.schema.json is what turns a misspelt or out-of-range value into an install error instead
// of a silently ignored setting. Helm applies the same schema; test/integration/helm-chart.test.ts
// checks that through helm itself.
import { describe, expect, test } from "@jest/globals";
import { Ajv } from "ajv";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const chart = fileURLToPath(new URL("../../../charts/drawbridge/", import.meta.url));
const schema: unknown = JSON.parse(readFileSync(join(chart, "values.schema.json"), "utf8"));
const defaults = parse(readFileSync(join(chart, "values.yaml"), "utf8")) as Record<string, unknown>;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema as object);

function withChange(path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(defaults);
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path.at(-1) ?? ""] = value;
  return copy;
}

describe("values.schema.json", () => {
  test("accepts the chart's own values.yaml", () => {
    expect(validate(defaults)).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
  });

  test("accepts a realistic production override", () => {
    const values = withChange(["azure", "workloadIdentity"], {
      enabled: true,
      clientId: "11111111-2222-3333-4444-555555555555",
      tenantId: "",
    });
    (values.operator as Record<string, unknown>).writeMode = "nsg";
    expect(validate(values)).toBe(true);
  });

  test.each([
    [["replicaCont"], 2, "additionalProperties"],
    [["operator", "writeMod"], "rule", "additionalProperties"],
    [["serviceMonitor", "enable"], true, "additionalProperties"],
    [["operator", "writeMode"], "both", "enum"],
    [["operator", "resyncInterval"], "5 minutes", "pattern"],
    [["operator", "logLevel"], "verbose", "enum"],
    [["replicaCount"], 0, "minimum"],
    [["azure", "workloadIdentity", "clientId"], "not-a-guid", "anyOf"],
    [["operator", "armEndpoint"], "http://plain.example", "anyOf"],
  ])("rejects %j = %j (%s)", (path, value, keyword) => {
    expect(validate(withChange(path, value))).toBe(false);
    expect((validate.errors ?? []).map((e) => e.keyword)).toContain(keyword);
  });
});
