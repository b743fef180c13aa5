// What can be checked about the image without a Docker engine: the base images are pinned, every
// file the Dockerfile copies exists and reaches the build context, tests stay out, the process
// runs as a non-root user with production dependencies only, and the entrypoint is the CLI with
// a command it knows.
import { describe, expect, test } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execForm, isIgnored, parseDockerfile, splitFlags, type Instruction } from "./dockerfile.ts";
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
  });

  test("installs production dependencies only, from the lock file", () => {
    const runs = all("RUN").map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b[^&|;]*--omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm (install|i)\b/.test(r))).toBe(false);
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

  test("the entrypoint is the drawbridge CLI and the default command is one it knows", () => {
    const workdir = finalStage()
      .filter((i) => i.keyword === "WORKDIR")
      .at(-1)?.args;
    expect(workdir).toBe("/app");
    const entrypoint = execForm(finalStage().find((i) => i.keyword === "ENTRYPOINT")?.args ?? "");
    const cmd = execForm(finalStage().find((i) => i.keyword === "CMD")?.args ?? "");
    expect(entrypoint?.[0]).toBe("node");
    const script = entrypoint?.at(-1) ?? "";
    expect(script).toBe("bin/drawbridge.js");
    expect(readFileSync(join(root, script), "utf8")).toContain('from "../src/cli/main.ts"');
    expect(cmd).toEqual(["run"]);
    // Ask the CLI itself which commands it has, with the node flags the image uses.
    const help = spawnSync(process.execPath, [...(entrypoint ?? []).slice(1, -1), script, "help"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(help.status).toBe(0);
    const commands = help.stdout.split("\n").map((l) => /^\s{2}(\S+)\s/.exec(l)?.[1]);
    expect(commands).toContain(cmd?.[0]);
  });
});
