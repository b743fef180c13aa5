// `npm run -s helm -- <args>` (drawbridge helm): builds the pinned helm once, then runs it with the
// caller's arguments and hands back its exit code.
import { beforeAll, describe, expect, jest, test } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ensureHelm } from "../../src/helm/build.ts";

// Every step spawns helm or kubectl; on a loaded machine that takes seconds, not milliseconds.
jest.setTimeout(60_000);

const root = fileURLToPath(new URL("../../", import.meta.url));
const pinned = /^require helm\.sh\/helm\/v3 (v\S+)$/m.exec(
  readFileSync(`${root}tools/helm/go.mod`, "utf8"),
)?.[1];

function drawbridgeHelm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", "bin/drawbridge.js", "helm", ...args],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
}

beforeAll(async () => {
  await ensureHelm({ env: process.env });
}, 1_800_000);

describe("drawbridge helm", () => {
  test("runs the helm version pinned in tools/helm/go.mod, from the cache", async () => {
    expect(pinned).toMatch(/^v3\.\d+\.\d+$/);
    const path = await ensureHelm({ env: process.env });
    expect(path).toMatch(new RegExp(`/drawbridge/helm/${pinned ?? ""}/helm$`));
    const r = drawbridgeHelm(["version", "--template", "{{ .Version }}"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(pinned);
    expect(r.status).toBe(0);
  });

  test("passes helm's exit code and output through", () => {
    const r = drawbridgeHelm(["lint", "/nonexistent-chart-dir"]);
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toContain("/nonexistent-chart-dir");
  });
});
