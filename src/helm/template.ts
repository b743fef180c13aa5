// Renders the chart with the pinned helm and parses the result: what the packaging tests and
// any tooling that inspects the chart build on.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export type HelmResult = { code: number; stdout: string; stderr: string };

/** A Kubernetes object as rendered: only the fields every object has are typed. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
};

export type RenderOptions = {
  releaseName?: string;
  namespace?: string;
  /** Values, written to a file and passed with --values (JSON is YAML). */
  values?: Record<string, unknown>;
  /** Extra helm arguments, e.g. ["--set", "a=b"]. */
  extraArgs?: string[];
};

/** The chart in this checkout. */
export function chartDir(): string {
  return fileURLToPath(new URL("../../charts/drawbridge", import.meta.url));
}

/** Runs helm with `args`, capturing its output. */
export function runHelm(
  helm: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(helm, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Runs `fn` with a values file holding `values` (or none), removing it afterwards. */
export async function withValuesFile<T>(
  values: Record<string, unknown> | undefined,
  fn: (args: string[]) => Promise<T>,
): Promise<T> {
  if (values === undefined) return fn([]);
  const dir = await mkdtemp(join(tmpdir(), "drawbridge-helm-"));
  try {
    const file = join(dir, "values.json");
    await writeFile(file, JSON.stringify(values));
    return await fn(["--values", file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `helm template`; resolves to helm's result (a non-zero code is not thrown). */
export function helmTemplate(helm: string, options: RenderOptions = {}): Promise<HelmResult> {
  return withValuesFile(options.values, (valuesArgs) =>
    runHelm(helm, [
      "template",
      options.releaseName ?? "drawbridge",
      chartDir(),
      "--namespace",
      options.namespace ?? "drawbridge-system",
      ...valuesArgs,
      ...(options.extraArgs ?? []),
    ]),
  );
}

/** Parses a multi-document YAML stream into objects, skipping empty documents. */
export function parseManifests(yamlText: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    if (doc.errors.length > 0)
      throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message ?? ""}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    out.push(value as Manifest);
  }
  return out;
}

/** Renders and parses, throwing helm's stderr when rendering fails. */
export async function renderChart(helm: string, options: RenderOptions = {}): Promise<Manifest[]> {
  const result = await helmTemplate(helm, options);
  if (result.code !== 0)
    throw new Error(`helm template failed (exit ${result.code}): ${result.stderr.trim()}`);
  return parseManifests(result.stdout);
}
