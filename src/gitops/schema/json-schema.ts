// JSON Schemas of the CRDs for kubeconform-style validators, laid out as their CRD catalogs expect
// (<group>/<kind>_<version>.json). Generated from crds/*.yaml; `node scripts/gen-json-schemas.ts`
// rewrites schemas/, and test/unit/gitops/json-schema-drift.test.ts fails when they drift.
// Objects are closed (additionalProperties: false, as kubeconform -strict would make them) because
// the API server prunes unknown fields silently: a typo must fail in CI, not vanish on apply.
// CEL rules (x-kubernetes-validations) stay in the schema for reference; JSON Schema validators
// ignore them, which is what `drawbridge validate` is for.

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function close(node: unknown, atMetadata: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => close(n, false));
  if (!isRecord(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "properties" && isRecord(v)) {
      out[k] = Object.fromEntries(
        Object.entries(v).map(([name, s]) => [name, close(s, name === "metadata")]),
      );
    } else out[k] = close(v, false);
  }
  const open = node["x-kubernetes-preserve-unknown-fields"] === true || atMetadata;
  if (
    node["type"] === "object" &&
    isRecord(node["properties"]) &&
    node["additionalProperties"] === undefined &&
    !open
  ) {
    out["additionalProperties"] = false;
  }
  return out;
}

export interface GeneratedSchema {
  /** Path under schemas/, e.g. "jit.drawbridge.dev/jitpolicy_v1alpha1.json". */
  path: string;
  schema: Json;
}

export function crdJsonSchemas(crds: unknown[]): GeneratedSchema[] {
  return crds.flatMap((crd) => {
    const spec = (crd as { spec: { group: string; names: { kind: string }; versions: Json[] } }).spec;
    return spec.versions.map((v) => {
      const openApi = ((v["schema"] ?? {}) as Json)["openAPIV3Schema"] as Json;
      const version = String(v["name"]);
      const schema = close(openApi, false) as Json;
      const props = { ...((schema["properties"] ?? {}) as Json) };
      props["apiVersion"] = { type: "string", enum: [`${spec.group}/${version}`] };
      props["kind"] = { type: "string", enum: [spec.names.kind] };
      return {
        path: `${spec.group}/${spec.names.kind.toLowerCase()}_${version}.json`,
        schema: {
          $schema: "http://json-schema.org/draft-07/schema#",
          title: `${spec.names.kind} (${spec.group}/${version})`,
          ...schema,
          properties: props,
          required: [
            ...new Set(["apiVersion", "kind", ...((schema["required"] as string[] | undefined) ?? [])]),
          ],
        },
      };
    });
  });
}

export function renderSchema(s: GeneratedSchema): string {
  return `${JSON.stringify(s.schema, null, 2)}\n`;
}
