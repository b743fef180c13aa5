// What can be checked about the image without a Docker engine: the base images are pinned, every
// file the Dockerfile copies exists and reaches the build context, tests stay out, the bundle is
// built from the lock file and is all the runtime stage takes from the build, the process runs as
// a non-root user, and the entrypoint is the bundle with the command the chart runs.
// bundle.test.ts builds the bundle and checks what it holds and that it runs.
import { describe, expect, test } from "@jest/globals";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { imageCommand, isIgnored, parseDockerfile, splitFlags, type Instruction } from "./dockerfile.ts";
import { OPERATOR_NODE_OPTIONS } from "../../../src/runtime/node-options.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const dockerfile = parseDockerfile(readFileSync(join(root, "Dockerfile"), "utf8"));
const dockerignore = readFileSync(join(root, ".dockerignore"), "utf8");

function all(keyword: string): Instruction[] {
  return dockerfile.filter((i) => i.keyword === keyword);
}

/** Instructions of the last stage (the image that ships). */
function finalStage(): Instruction[] {
  const start = dockerfile.map((i) => i.keyword).lastIndexOf("FROM");
  return dockerfile.slice(start);
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .map((p) => join(dir, p))
    .filter((p) => statSync(join(root, p)).isFile());
}

describe("Dockerfile", () => {
  test("is multi-stage and every base image is an exact Node.js 24 release", () => {
    const froms = all("FROM").map((i) => splitFlags(i.args).rest);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const [image = ""] of froms) {
      // node:<major>.<minor>.<patch>[-variant], optionally @sha256: never latest or a floating major.
      expect(image).toMatch(/^node:24\.\d+\.\d+(-[a-z0-9]+)*(@sha256:[a-f0-9]{64})?$/);
      expect(image).not.toMatch(/latest|:lts|:current/);
    }
  });

  test("every COPY source exists and is part of the build context", () => {
    const stages = new Set(all("FROM").map((i) => splitFlags(i.args).rest[2]));
    const copies = all("COPY").map((i) => splitFlags(i.args));
    expect(copies.length).toBeGreaterThan(0);
    for (const { flags, rest } of copies) {
      const from = flags.get("from");
      if (from !== undefined) {
        expect(stages).toContain(from);
        continue;
      }
      for (const source of rest.slice(0, -1)) {
        const path = join(root, source);
        expect({ source, exists: existsSync(path) }).toEqual({ source, exists: true });
        const files = statSync(path).isDirectory() ? filesUnder(source) : [source];
        const shipped = files.filter((f) => !isIgnored(dockerignore, f));
        expect({ source, shipped: shipped.length > 0 }).toEqual({ source, shipped: true });
      }
    }
  });

  test(".dockerignore keeps tests, node_modules and local state out of the build context", () => {
    // Unit tests live under test/unit/, not beside the code; a stray one under src/ stays out too.
    expect(filesUnder("src").filter((f) => f.endsWith(".test.ts"))).toEqual([]);
    for (const f of [
      "src/operator/x.test.ts",
      "node_modules/yaml/package.json",
      "test/unit/x.test.ts",
      ".git/HEAD",
      "tools/helm/go.mod",
    ]) {
      expect({ f, ignored: isIgnored(dockerignore, f) }).toEqual({ f, ignored: true });
    }
    expect(isIgnored(dockerignore, "src/cli/main.ts")).toBe(false);
    expect(isIgnored(dockerignore, "package-lock.json")).toBe(false);
    expect(isIgnored(dockerignore, "scripts/build.ts")).toBe(false);
    // A stale local build never reaches the image: the build stage makes its own.
    expect(isIgnored(dockerignore, "dist/drawbridge.js")).toBe(true);
  });

  test("installs from the lock file without install scripts, and ships only the bundle", () => {
    const runs = all("RUN").map((i) => i.args);
    const installs = runs.filter((r) => /\bnpm\b/.test(r) && !/\brm -rf\b/.test(r));
    expect(installs.length).toBeGreaterThan(0);
    for (const r of installs) expect(r).toMatch(/\bnpm ci\b[^&|;]*--ignore-scripts/);
    expect(runs.some((r) => /\bnpm (install|i)\b/.test(r))).toBe(false);
    // The build stage runs the build script; the runtime stage copies its output and no
    // node_modules, no sources (everything the operator runs is in the bundle).
    const buildOut = runs
      .map((r) => /\bnode scripts\/build\.ts (\S+)/.exec(r)?.[1])
      .find((x) => x !== undefined);
    expect(buildOut).toBeDefined();
    const finalCopies = finalStage()
      .filter((i) => i.keyword === "COPY")
      .map((i) => splitFlags(i.args));
    const fromBuild = finalCopies.filter((c) => c.flags.get("from") !== undefined);
    expect(fromBuild.map((c) => c.rest[0]?.replace(/\/$/, ""))).toEqual([buildOut]);
    const local = finalCopies
      .filter((c) => c.flags.get("from") === undefined)
      .flatMap((c) => c.rest.slice(0, -1));
    expect(local.filter((src) => /^(node_modules|src|bin|scripts)\b/.test(src))).toEqual([]);
    expect(finalStage().some((i) => i.keyword === "RUN" && /\bnpm\b.*\b(ci|install)\b/.test(i.args))).toBe(
      false,
    );
  });

  test("runs as a numeric non-root user, in production mode, writing only to /tmp", () => {
    const users = finalStage().filter((i) => i.keyword === "USER");
    const user = users.at(-1)?.args ?? "";
    const [uid = "", gid = uid] = user.split(":");
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
    const env = finalStage()
      .filter((i) => i.keyword === "ENV")
      .map((i) => i.args)
      .join(" ");
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    // The heap settings the operator is measured and packaged with, identical everywhere.
    expect(env).toContain(`NODE_OPTIONS="${OPERATOR_NODE_OPTIONS}"`);
    expect(env).toMatch(/\bHOME=\/tmp\b/);
  });

  test("carries the OCI labels", () => {
    const labels = finalStage()
      .filter((i) => i.keyword === "LABEL")
      .map((i) => i.args)
      .join(" ");
    for (const key of ["title", "description", "licenses", "source", "version", "revision"]) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
  });

  test("the entrypoint is the bundle the build stage makes, with the image's command", () => {
    const workdir = finalStage()
      .filter((i) => i.keyword === "WORKDIR")
      .at(-1)?.args;
    expect(workdir).toBe("/app");
    const { entrypoint, cmd } = imageCommand();
    expect(entrypoint[0]).toBe("node");
    expect(entrypoint.at(-1)).toBe("dist/drawbridge.js");
    expect(cmd).toEqual(["run"]);
    // The runtime stage puts the build's output at dist/; the build script names its entry drawbridge.js.
    const copy = finalStage()
      .filter((i) => i.keyword === "COPY")
      .map((i) => splitFlags(i.args))
      .find((c) => c.flags.get("from") !== undefined);
    expect(copy?.rest.at(-1)?.replace(/^\.\//, "").replace(/\/$/, "")).toBe("dist");
    // bundle.test.ts runs the built entry with these flags and this command.
  });
});
