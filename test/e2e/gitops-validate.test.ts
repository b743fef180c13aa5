// `drawbridge validate` agrees with the real API server: on the whole bad-input corpus and the valid
// fixtures, an object validate reports as refused by the CRD (schema or CEL) is exactly one that
// `kubectl apply --dry-run=server` refuses, and each finding names the case's field with file and
// line. Semantic cases pass admission and are caught by the core's checks, offline.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Finding } from "../../src/gitops/validate/check.ts";
import { testCluster } from "../support/cluster.ts";
import { inNamespace, loadDocuments, loadYaml, repoPath } from "../support/manifests.ts";
import type { Manifest } from "../support/manifests.ts";
import { ROOT } from "./harness.ts";

jest.setTimeout(300_000);

interface Case {
  name: string;
  stage: "admission" | "semantic";
  field: string;
  object: Manifest;
  policy?: Record<string, unknown>;
}

const cases = loadYaml(repoPath("test/fixtures/bad-input/cases.yaml")) as Case[];
const validDir = repoPath("test/fixtures/valid");
const valid = readdirSync(validDir)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) => loadDocuments(join(validDir, f)).map((m, i) => ({ name: `valid-${f}-${i}`, manifest: m })));

let dir: string;
let ns: string;
let findings: Finding[];
let exitCode: number | null;

/** Each case in its own file and namespace, with the policy its request needs beside it. */
function writeCase(name: string, manifest: Manifest, policy?: Record<string, unknown>): void {
  const obj = { ...manifest, metadata: { ...manifest.metadata, namespace: `ns-${name}`.slice(0, 63) } };
  const docs = [obj];
  if (policy !== undefined) {
    docs.unshift({
      apiVersion: "jit.drawbridge.dev/v1alpha1",
      kind: "JitPolicy",
      metadata: { name: "web-admin", namespace: obj.metadata.namespace },
      spec: policy,
    });
  }
  writeFileSync(join(dir, "cases", `${name}.yaml`), docs.map((d) => `---\n${stringify(d)}`).join(""));
}

async function admitted(manifest: Manifest): Promise<boolean> {
  const verb = manifest.metadata.name === undefined ? "create" : "apply";
  const r = await testCluster().kubectl([verb, "--dry-run=server", "-f", "-"], {
    input: inNamespace(manifest, ns),
  });
  return r.code === 0;
}

beforeAll(async () => {
  ns = await testCluster().createNamespace("gitops-validate");
  dir = mkdtempSync(join(tmpdir(), "drawbridge-validate-e2e-"));
  mkdirSync(join(dir, "cases"));
  for (const c of cases) writeCase(c.name, c.object, c.policy);
  for (const v of valid) writeCase(v.name, v.manifest);
  const r = spawnSync(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      join(ROOT, "bin", "drawbridge.js"),
      "validate",
      "-f",
      join(dir, "cases"),
      "-o",
      "json",
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  exitCode = r.status;
  findings = (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
}, 600_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function findingsOf(name: string): Finding[] {
  return findings.filter((f) => f.file.endsWith(`/${name}.yaml`));
}

const schemaFinding = (f: Finding): boolean => / \(Field\w+\)$/.test(f.message);

describe("validate against the API server", () => {
  test("the corpus is invalid as a whole (exit 1)", () => {
    expect(exitCode).toBe(1);
  });

  test.each(cases.filter((c) => c.stage === "admission").map((c) => [c.name, c] as const))(
    "%s: refused by validate's CRD check and by the API server, naming the field",
    async (_, c) => {
      const mine = findingsOf(c.name).filter(schemaFinding);
      const last = c.field.split(/[.[]/).pop() ?? c.field;
      expect({ field: c.field, mine }).toEqual(
        expect.objectContaining({
          mine: expect.arrayContaining([expect.objectContaining({ field: expect.stringContaining(last) })]),
        }),
      );
      for (const f of mine) expect(f.line).toBeGreaterThan(0);
      expect(await admitted(c.object)).toBe(false);
    },
  );

  test.each(cases.filter((c) => c.stage === "semantic").map((c) => [c.name, c] as const))(
    "%s: admitted by both, and caught offline by the core when its policy is known",
    async (_, c) => {
      const mine = findingsOf(c.name);
      expect(mine.filter(schemaFinding)).toEqual([]);
      expect(await admitted(c.object)).toBe(true);
      const needsCluster = c.object.kind === "AccessRequest" && c.policy === undefined;
      if (!needsCluster) {
        expect(mine.map((f) => f.field)).toEqual(expect.arrayContaining([c.field]));
      }
    },
  );

  test.each(valid.map((v) => [v.name, v] as const))("%s: no finding, and admitted", async (_, v) => {
    expect(findingsOf(v.name)).toEqual([]);
    expect(await admitted(v.manifest)).toBe(true);
  });
});
