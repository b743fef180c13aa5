// `npm run build`: the operator image's JavaScript. One esbuild bundle of src/cli/image.ts (the
// commands the image runs: `run` and `sweep`) with its production dependencies, written to dist/
// (`node dist/drawbridge.js run`). Why a bundle at all (docs/adr/0017-bundled-operator-image.md):
// the operator's resident memory is mostly code, and a bundle is loaded without Node's TypeScript
// stripper and without the thousands of small module records of node_modules.
// The Dockerfile builds it in its build stage; the benchmark builds it when stale (bench/bundle.ts).
import { build } from "esbuild";
import type { Metafile, Plugin } from "esbuild";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("..", import.meta.url));
export const ENTRY = join(REPO, "src", "cli", "image.ts");
export const DEFAULT_OUT = join(REPO, "dist");

// Bundled CommonJS packages call require() on Node built-ins; an ES module has no require of its own.
const REQUIRE_SHIM =
  'import { createRequire as __drawbridgeRequire } from "node:module";\n' +
  "const require = __drawbridgeRequire(import.meta.url);";

/**
 * Bundles the image's entry into `outdir` (emptied first): drawbridge.js plus chunks/ for what is
 * loaded on demand (each command, @azure/identity), meta.json (esbuild's metafile: every input and
 * import, read by the packaging test) and a package.json that marks the files as ES modules.
 */
export async function buildBundle(outdir: string = DEFAULT_OUT): Promise<Metafile> {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { drawbridge: ENTRY },
    // Metafile paths (and so the licence lookup) are relative to the repository, wherever this runs.
    absWorkingDir: REPO,
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    chunkNames: "chunks/[name]-[hash]",
    // Whitespace and syntax only: identifiers keep their names, so stack traces and logs stay
    // readable. Less source text is less memory (Node keeps every module's source resident).
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    // For debugging only (`NODE_OPTIONS=--enable-source-maps`, which costs memory).
    sourcemap: "linked",
    // The sources use erasable TypeScript only; no tsconfig, so the build stage (which has none)
    // and a clone produce the same output, with Node's own class-field semantics.
    tsconfigRaw: {},
    banner: { js: REQUIRE_SHIM },
    plugins: [productionOnly()],
    // Each bundled package's licence travels whole in THIRD-PARTY-LICENSES.txt instead.
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  writeFileSync(join(outdir, "meta.json"), JSON.stringify(result.metafile));
  writeFileSync(join(outdir, "package.json"), '{ "type": "module" }\n');
  writeFileSync(join(outdir, "THIRD-PARTY-LICENSES.txt"), thirdPartyLicenses(result.metafile));
  return result.metafile;
}

/**
 * The build runs where development dependencies are installed too. A production dependency that
 * probes for an optional package (debug tries supports-color inside try/catch) would then bundle a
 * development-only copy; such an import is left external instead, so it fails at run time and the
 * package takes its fallback, as it does under `npm ci --omit=dev`.
 */
function productionOnly(): Plugin {
  const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const resolving = Symbol("productionOnly");
  return {
    name: "production-only",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if ((args.pluginData as unknown) === resolving) return undefined;
        const r = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: resolving,
        });
        // Unresolvable (an optional package not installed): esbuild's own handling decides.
        if (r.errors.length > 0) return undefined;
        const dir = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(relative(REPO, r.path))?.[1];
        return dir !== undefined && lock.packages[dir]?.dev === true
          ? { path: args.path, external: true }
          : r;
      });
    },
  };
}

/** The licence text of every package whose code is in the bundle (their licences ask for it). */
export function thirdPartyLicenses(meta: Metafile): string {
  const dirs = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m?.[1] !== undefined) dirs.add(m[1]);
  }
  const parts: string[] = [];
  for (const dir of [...dirs].sort()) {
    const abs = join(REPO, dir);
    const pkg = JSON.parse(readFileSync(join(abs, "package.json"), "utf8")) as {
      name: string;
      version: string;
      license?: string;
    };
    const file = readdirSync(abs).find((f) => /^(licen[cs]e|copying)/i.test(f));
    const text =
      file === undefined
        ? `(no licence file; package.json says ${pkg.license ?? "nothing"})`
        : readFileSync(join(abs, file), "utf8").trim();
    parts.push(`${pkg.name}@${pkg.version} (${pkg.license ?? "?"})\n\n${text}\n`);
  }
  return parts.join(`\n${"-".repeat(72)}\n\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? DEFAULT_OUT;
  const meta = await buildBundle(out);
  const bytes = Object.values(meta.outputs).reduce((n, o) => n + o.bytes, 0);
  process.stdout.write(
    `${out}: ${Object.keys(meta.outputs).length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB\n`,
  );
}
