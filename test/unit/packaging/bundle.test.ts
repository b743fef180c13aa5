// The operator image's bundle (scripts/build.ts), built here into a temporary folder exactly as the
// Dockerfile's build stage builds it: it needs nothing at run time but Node's built-ins (the image
// has no node_modules), holds no test and no development-only package, carries the operator's
// commands and not the repository's other ones, ships the licences of what it bundles, and runs
// with the image's ENTRYPOINT flags.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Metafile } from "esbuild";
import { buildBundle, REPO } from "../../../scripts/build.ts";
import { imageCommand } from "./dockerfile.ts";

// Optional packages their users require inside try/catch and work without: ws's native add-ons,
// debug's supports-color (installed here only as a development dependency, so left out).
const OPTIONAL = new Set(["bufferutil", "utf-8-validate", "supports-color"]);

let out = "";
let meta: Metafile;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "drawbridge-bundle-"));
  meta = await buildBundle(out);
}, 180_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const { entrypoint } = imageCommand();
  const flags = entrypoint.slice(1, -1);
  return spawnSync(process.execPath, [...flags, join(out, "drawbridge.js"), ...args], {
    cwd: tmpdir(),
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("the image's bundle", () => {
  test("imports nothing at run time but Node's built-ins", () => {
    const external = new Set<string>();
    for (const o of Object.values(meta.outputs))
      for (const i of o.imports) if (i.external && !isBuiltin(i.path)) external.add(i.path);
    expect([...external].filter((p) => !OPTIONAL.has(p))).toEqual([]);
  });

  test("holds no test and no development-only package", () => {
    const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const inputs = Object.keys(meta.inputs);
    expect(inputs.filter((f) => f.endsWith(".test.ts") || f.startsWith("test/"))).toEqual([]);
    const dirs = new Set(inputs.map((f) => /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]));
    dirs.delete(undefined);
    expect(dirs.size).toBeGreaterThan(20);
    const devOnly = [...dirs].filter((d) => d !== undefined && lock.packages[d]?.dev === true);
    expect(devOnly).toEqual([]);
  });

  test("carries the operator's commands and not the repository's others", () => {
    const inputs = Object.keys(meta.inputs);
    for (const f of ["src/cli/image.ts", "src/operator/main.ts", "src/sweep/sweep.ts"])
      expect(inputs).toContain(f);
    const foreign = inputs.filter((f) => /^src\/(emulator|controlplane|demo|helm|gitops)\//.test(f));
    expect(foreign).toEqual([]);
    expect(inputs).not.toContain("src/cli/main.ts");
  });

  test("large chunks are plain ASCII (one other character makes V8 keep a chunk's text at two bytes a character)", () => {
    const large = Object.entries(meta.outputs).filter(([f, o]) => f.endsWith(".js") && o.bytes > 2 ** 20);
    expect(large.length).toBeGreaterThan(0);
    for (const [file] of large) {
      const text = readFileSync(join(REPO, file), "latin1");
      expect({ file, nonAscii: /[^\t\n\r\x20-\x7e]/.exec(text)?.index }).toEqual({
        file,
        nonAscii: undefined,
      });
    }
  });

  test("ships the licence of every bundled package", () => {
    const licences = readFileSync(join(out, "THIRD-PARTY-LICENSES.txt"), "utf8");
    for (const name of ["@kubernetes/client-node", "@azure/arm-network", "pino", "undici"])
      expect(licences).toMatch(new RegExp(`^${name.replace("/", "\\/")}@\\d`, "m"));
  });

  test("runs with the image's flags: help lists the image's command, run and sweep start", () => {
    const { cmd } = imageCommand();
    const help = run(["help"]);
    expect(help.status).toBe(0);
    const commands = help.stdout.split("\n").map((l) => /^\s{2}(\S+)\s/.exec(l)?.[1]);
    expect(commands).toContain(cmd[0]);
    expect(commands).toContain("sweep");
    // --help loads each command's whole module graph (every static import) before it answers.
    const runHelp = run(["run", "--help"]);
    expect({ status: runHelp.status, stderr: runHelp.stderr }).toEqual({ status: 0, stderr: "" });
    expect(runHelp.stdout).toContain("usage: drawbridge run");
    const sweepHelp = run(["sweep", "--help"]);
    expect({ status: sweepHelp.status, stderr: sweepHelp.stderr }).toEqual({ status: 0, stderr: "" });
  });

  test("turns away the commands that need the source repository, naming where they run", () => {
    const r = run(["emulator"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('"emulator" is not a command of the operator image');
    expect(r.stderr).toContain("node bin/drawbridge.js emulator");
  });
});
