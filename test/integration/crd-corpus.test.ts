// The CRDs' schemas and CEL rules against the bad-input corpus and the valid fixtures, on the real
// API server: every `stage: admission` case is refused with an error naming its field; every
// `stage: semantic` case and every valid object gets past admission (the operator denies the
// semantic ones later).
import { describe, expect, jest, test } from "@jest/globals";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { testCluster } from "../support/cluster.ts";
import type { KubectlResult } from "../support/cluster.ts";
import { inNamespace, loadDocuments, loadYaml, repoPath } from "../support/manifests.ts";
import type { Manifest } from "../support/manifests.ts";

jest.setTimeout(180_000);

type Case = {
  name: string;
  description: string;
  stage: "admission" | "semantic";
  field: string;
  object: Manifest;
};

const cases = loadYaml(repoPath("test/fixtures/bad-input/cases.yaml")) as Case[];
const admission = cases.filter((c) => c.stage === "admission");
const semantic = cases.filter((c) => c.stage === "semantic");
const validDir = repoPath("test/fixtures/valid");
const valid = [
  ...readdirSync(validDir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => loadDocuments(join(validDir, f)).map((m) => ({ file: `valid/${f}`, manifest: m }))),
  ...["policy.yaml", "request.yaml"].map((f) => ({
    file: `examples/${f}`,
    manifest: loadDocuments(repoPath(`examples/${f}`))[0]!,
  })),
];

// Concurrent tests may start before beforeAll finishes: every test awaits the same namespace.
let namespace: Promise<string> | undefined;
function corpusNamespace(): Promise<string> {
  return (namespace ??= testCluster().createNamespace("corpus"));
}

async function dryRun(manifest: Manifest): Promise<KubectlResult> {
  const ns = await corpusNamespace();
  // generateName needs create; apply needs a name.
  const verb = manifest.metadata.name === undefined ? "create" : "apply";
  return testCluster().kubectl([verb, "--dry-run=server", "-f", "-"], { input: inNamespace(manifest, ns) });
}

/** The spellings of a field an error may use: the full path, or its last segment. */
function fieldSpellings(field: string): string[] {
  return [field, field.split(".").pop() ?? field];
}

describe("bad-input corpus at admission", () => {
  test("the corpus has admission and semantic cases", () => {
    expect(admission.length).toBeGreaterThan(0);
    expect(semantic.length).toBeGreaterThan(0);
  });

  test.concurrent.each(admission.map((c) => [c.name, c] as const))(
    "%s is refused naming its field",
    async (_, c) => {
      const r = await dryRun(c.object);
      expect(r.code).not.toBe(0);
      // The API server's refusal: kubectl renders a 422 as `The <Kind> "<name>" is invalid: ...`.
      expect(r.stderr).toMatch(/ is invalid: |Error from server/);
      const named = fieldSpellings(c.field).filter((f) => r.stderr.includes(f));
      expect({ field: c.field, stderr: r.stderr, named }).toEqual(
        expect.objectContaining({ named: expect.arrayContaining([expect.any(String)]) }),
      );
    },
  );

  test.concurrent.each(semantic.map((c) => [c.name, c] as const))(
    "%s passes admission (the operator denies it)",
    async (_, c) => {
      const r = await dryRun(c.object);
      expect({ stderr: r.stderr, code: r.code }).toEqual({ stderr: "", code: 0 });
    },
  );
});

describe("valid objects at admission", () => {
  test.concurrent.each(
    valid.map((v) => [`${v.file} ${v.manifest.kind} ${v.manifest.metadata.name ?? ""}`, v] as const),
  )("%s is accepted", async (_, v) => {
    const r = await dryRun(v.manifest);
    expect({ stderr: r.stderr, code: r.code }).toEqual({ stderr: "", code: 0 });
    expect(r.stdout).toMatch(/(created|configured) \(server dry run\)/);
  });
});
