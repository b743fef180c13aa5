// Reading YAML manifests and fixtures for tests against the control plane.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; generateName?: string; namespace?: string; [key: string]: unknown };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
};

/** Absolute path of a file in the repository, e.g. repoPath("crds"). */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../../${relative}`, import.meta.url));
}

/** Every non-empty document of a (multi-document) YAML file. */
export function loadDocuments<T = Manifest>(path: string): T[] {
  return parseAllDocuments(readFileSync(path, "utf8"))
    .map((d) => d.toJS() as T | null)
    .filter((d): d is T => d !== null);
}

export function loadYaml(path: string): unknown {
  return parse(readFileSync(path, "utf8"));
}

/** A copy of `manifest` placed in `namespace`, as JSON for `kubectl ... -f -`. */
export function inNamespace(manifest: Manifest, namespace: string): string {
  return JSON.stringify({ ...manifest, metadata: { ...manifest.metadata, namespace } });
}
