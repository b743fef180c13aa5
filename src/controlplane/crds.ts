// Installs the project's CustomResourceDefinitions and waits until the API server serves them.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { kubectlOk } from "./kubectl.ts";

/** The manifests `kubectl apply` gets: every `*.yaml`/`*.yml` directly in `dir` except kustomize's. */
export async function crdFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names
    .filter((n) => /\.ya?ml$/.test(n) && !/^kustomization\.ya?ml$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Applies the CRDs in `dir` and resolves to their names once each is Established. */
export async function installCrds(dir: string, binDir: string, kubeconfig: string): Promise<string[]> {
  const files = await crdFiles(dir);
  if (files.length === 0) return [];
  const opts = { binDir, kubeconfig };
  const fileArgs = files.flatMap((f) => ["-f", f]);
  // Server-side apply: no last-applied annotation, so large schemas do not hit its size limit.
  const applied = await kubectlOk(
    [
      "apply",
      "--server-side",
      "--force-conflicts",
      "--field-manager=drawbridge-cluster",
      "-o",
      "name",
      ...fileArgs,
    ],
    opts,
  );
  const names = applied
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("customresourcedefinition."));
  if (names.length > 0) {
    await kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", ...names], opts);
  }
  return names.map((n) => n.slice(n.indexOf("/") + 1));
}
