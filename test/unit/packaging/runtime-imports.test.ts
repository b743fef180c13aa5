// The image's bundle is built from src/ (without tests) and production dependencies only. This
// follows every runtime import of the image's entry (src/cli/image.ts: `run` and `sweep`, lazily
// loaded modules included) and fails when it would reach a file the build context lacks or a
// package that is not a production dependency (bundle.test.ts checks the built bundle itself).
import { describe, expect, test } from "@jest/globals";
import { existsSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { isIgnored } from "./dockerfile.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const dockerignore = readFileSync(join(root, ".dockerignore"), "utf8");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
};
const ENTRY = ["src/cli/image.ts"];

/** Runtime import specifiers of a module: type-only imports are erased and skipped. */
function runtimeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  const staticRe = /(?:^|;|\n)\s*(?:import|export)\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?["']([^"']+)["']/g;
  for (const m of code.matchAll(staticRe)) if (m[1] === undefined && m[2] !== undefined) out.push(m[2]);
  // Lazily loaded modules (each command, @azure/identity) are bundled too.
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g))
    if (m[1] !== undefined) out.push(m[1]);
  return out;
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

function walk(): { files: Set<string>; packages: Set<string>; missing: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const missing: string[] = [];
  const queue = [...ENTRY];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (files.has(file)) continue;
    files.add(file);
    if (!existsSync(join(root, file))) {
      missing.push(file);
      continue;
    }
    for (const spec of runtimeImports(readFileSync(join(root, file), "utf8"))) {
      if (spec.startsWith(".")) queue.push(relative(root, join(root, dirname(file), spec)));
      else if (!isBuiltin(spec)) packages.add(packageName(spec));
    }
  }
  return { files, packages, missing };
}

describe("runtime imports of the image's entry", () => {
  const { files, packages, missing } = walk();

  test("reach a realistic module graph", () => {
    expect(files.size).toBeGreaterThan(10);
    expect(packages).toContain("@kubernetes/client-node");
    expect(files).toContain("src/operator/main.ts");
    expect(files).toContain("src/sweep/sweep.ts");
  });

  test("every module exists and is shipped in the image", () => {
    expect(missing).toEqual([]);
    const unshipped = [...files].filter(
      (f) => !f.startsWith("src/") || f.endsWith(".test.ts") || isIgnored(dockerignore, f),
    );
    expect(unshipped).toEqual([]);
  });

  test("every package is a production dependency", () => {
    const prod = new Set(Object.keys(pkg.dependencies ?? {}));
    expect([...packages].filter((p) => !prod.has(p))).toEqual([]);
  });
});
