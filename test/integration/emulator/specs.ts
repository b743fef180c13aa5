// The official Microsoft.Network REST specs as JSON-schema validators. The Swagger 2.0 files are
// registered under their relative file names so their `$ref`s ("./network.json#/definitions/...")
// resolve. To catch keys the spec does not define, every definition that is not an allOf base
// gets `unevaluatedProperties: false` (draft 2019-09), which, unlike additionalProperties, sees
// the properties contributed through allOf. Files the shared copy does not contain (referenced
// only for read-only back-references) are registered as permissive stubs.
import { Ajv2019, type ValidateFunction } from "ajv/dist/2019.js";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "./support.ts";

export const NETWORK_DIR_REL = "specification/network/resource-manager/Microsoft.Network/stable/2024-05-01";

const DEFAULT_SPECS_REL = "../shared/azure-rest-api-specs";

/** The checkout this one was cloned from, when that is a directory on this machine. */
function originCheckout(): string | undefined {
  try {
    const url = execFileSync("git", ["-C", REPO_ROOT, "remote", "get-url", "origin"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dir = url.startsWith("file://") ? fileURLToPath(url) : url;
    return isAbsolute(dir) && existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * AZURE_SPECS_DIR, else ../shared/azure-rest-api-specs beside this checkout, else beside the local
 * checkout it was cloned from (CI runs in a fresh clone made elsewhere).
 */
export function specsRoot(): string {
  const env = process.env["AZURE_SPECS_DIR"];
  const origin = env === undefined ? originCheckout() : undefined;
  const candidates =
    env !== undefined
      ? [resolve(REPO_ROOT, env)]
      : [
          resolve(REPO_ROOT, DEFAULT_SPECS_REL),
          ...(origin === undefined ? [] : [resolve(origin, DEFAULT_SPECS_REL)]),
        ];
  const found = candidates.find((d) => existsSync(join(d, NETWORK_DIR_REL, "networkSecurityGroup.json")));
  if (found === undefined) {
    throw new Error(
      `Azure REST API specs not found: looked for ${NETWORK_DIR_REL}/networkSecurityGroup.json under ${candidates.join(", ")}. ` +
        `Set AZURE_SPECS_DIR to a checkout of github.com/Azure/azure-rest-api-specs (default ${DEFAULT_SPECS_REL}).`,
    );
  }
  return found;
}

export function networkDir(): string {
  return join(specsRoot(), NETWORK_DIR_REL);
}

type Json = Record<string, unknown>;

function walk(node: unknown, visit: (n: Json) => void): void {
  if (Array.isArray(node)) for (const x of node) walk(x, visit);
  else if (typeof node === "object" && node !== null) {
    visit(node as Json);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

function refsOf(doc: unknown): string[] {
  const refs: string[] = [];
  walk(doc, (n) => {
    if (typeof n["$ref"] === "string") refs.push(n["$ref"]);
  });
  return refs;
}

/** Definitions used as allOf bases must stay open: the derived schema adds the other keys. */
function allOfBases(docs: Json[]): Set<string> {
  const bases = new Set<string>();
  for (const d of docs) {
    walk(d, (n) => {
      if (!Array.isArray(n["allOf"])) return;
      for (const b of n["allOf"] as Json[]) {
        if (typeof b["$ref"] === "string") bases.add(b["$ref"].split("#/definitions/")[1] ?? "");
      }
    });
  }
  return bases;
}

function closeDefinitions(doc: Json, bases: Set<string>): void {
  const defs = (doc["definitions"] ?? {}) as Record<string, Json>;
  for (const [name, def] of Object.entries(defs)) {
    if (bases.has(name)) continue;
    walk(def, (n) => {
      if (typeof n["properties"] === "object" && n["additionalProperties"] === undefined) {
        n["unevaluatedProperties"] = false;
      }
    });
  }
}

export interface SpecValidators {
  validate(definition: string, value: unknown): string[];
  missingFiles: string[];
}

export function loadValidators(): SpecValidators {
  const dir = networkDir();
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  const docs = files.map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as Json);
  const bases = allOfBases(docs);
  const ajv = new Ajv2019({ strict: false, validateFormats: false, allErrors: true });
  const stubs = new Map<string, Set<string>>();
  docs.forEach((doc, i) => {
    closeDefinitions(doc, bases);
    for (const ref of refsOf(doc)) {
      const [file, pointer] = ref.split("#");
      if (
        file === undefined ||
        file === "" ||
        pointer === undefined ||
        files.includes(file.replace("./", ""))
      )
        continue;
      const def = pointer.split("/").pop() ?? "";
      stubs.set(file.replace("./", ""), (stubs.get(file.replace("./", "")) ?? new Set()).add(def));
    }
    ajv.addSchema(doc, files[i]);
  });
  for (const [file, defs] of stubs) {
    ajv.addSchema({ definitions: Object.fromEntries([...defs].map((d) => [d, { type: "object" }])) }, file);
  }
  const cache = new Map<string, ValidateFunction>();
  return {
    missingFiles: [...stubs.keys()],
    validate(definition: string, value: unknown): string[] {
      let fn = cache.get(definition);
      if (fn === undefined) {
        const [file, def] = definition.includes(":")
          ? definition.split(":")
          : ["networkSecurityGroup.json", definition];
        fn = ajv.getSchema(`${String(file)}#/definitions/${String(def)}`);
        if (fn === undefined) throw new Error(`no schema for ${definition}`);
        cache.set(definition, fn);
      }
      if (fn(value)) return [];
      return (fn.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
    },
  };
}

/**
 * Shape comparison with an official example: every key of the example is present in the answer
 * with the same JSON type, recursively (array items matched by `name`, else by position).
 * Returns the differences.
 */
export function missingShape(example: unknown, actual: unknown, path = "$"): string[] {
  const kind = (v: unknown): string => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);
  if (kind(example) !== kind(actual)) return [`${path}: expected ${kind(example)}, got ${kind(actual)}`];
  if (Array.isArray(example)) {
    const act = actual as unknown[];
    return example.flatMap((item, i) => {
      const name = (item as { name?: unknown } | null)?.name;
      const match =
        typeof name === "string" ? act.find((a) => (a as { name?: unknown } | null)?.name === name) : act[i];
      if (match === undefined)
        return act.length === 0 ? [`${path}[${i}]: missing`] : missingShape(item, act[0], `${path}[${i}]`);
      return missingShape(item, match, `${path}[${i}]`);
    });
  }
  if (kind(example) !== "object") return [];
  const ex = example as Json;
  const act = actual as Json;
  return Object.keys(ex).flatMap((k) =>
    k in act ? missingShape(ex[k], act[k], `${path}.${k}`) : [`${path}.${k}: missing`],
  );
}
