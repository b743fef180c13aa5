// The CRDs' own validation, run offline by tools/crdvalidate (the API server's CRD libraries: the
// OpenAPI schema, defaults, x-kubernetes-validations CEL rules, unknown fields), so `validate`
// checks exactly what admission checks instead of a second hand-written copy.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const CRD_DIR = join(REPO_ROOT, "crds");
const BUILD_SCRIPT = join(REPO_ROOT, "tools", "crdvalidate", "build.sh");

export interface SchemaProblem {
  field: string;
  type: string;
  detail: string;
}

export function loadCrds(dir: string = CRD_DIR): unknown[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => parse(readFileSync(join(dir, f), "utf8")) as unknown);
}

/** The helper binary: built (first time only) and cached by tools/crdvalidate/build.sh. */
export function crdValidator(): string {
  const out = execFileSync("bash", [BUILD_SCRIPT], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const path = out.trim().split("\n").pop();
  if (path === undefined || path === "") throw new Error("tools/crdvalidate/build.sh printed no binary path");
  return path;
}

/** One list of problems per object, in order. */
export function schemaProblems(binary: string, crds: unknown[], objects: unknown[]): SchemaProblem[][] {
  const out = execFileSync(binary, [], {
    input: JSON.stringify({ crds, objects }),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const parsed = JSON.parse(out) as SchemaProblem[][];
  if (!Array.isArray(parsed) || parsed.length !== objects.length) {
    throw new Error(`crdvalidate answered ${String(parsed.length)} results for ${objects.length} objects`);
  }
  return parsed;
}
