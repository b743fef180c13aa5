// Manifests for `drawbridge validate` and `drawbridge plan`: every YAML/JSON document in the given
// files and directories (recursively), with its file and a way to find a field's line.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { LineCounter, isMap, isSeq, parseAllDocuments } from "yaml";
import type { Document, Node } from "yaml";

const MANIFEST = /\.(ya?ml|json)$/i;

export interface Manifest {
  file: string;
  /** Line of the document's first line (1-based). */
  line: number;
  object: Record<string, unknown>;
  /** The line of `field` ("spec.ports[1].maxDuration"), or of its closest existing parent. */
  lineOf(field: string): number;
}

export interface ReadProblem {
  file: string;
  line: number;
  message: string;
}

/** Files named, and the manifests under directories named, sorted for stable output. */
export function manifestFiles(paths: string[]): string[] {
  return paths.flatMap((p) => {
    if (!statSync(p).isDirectory()) return [p];
    return readdirSync(p, { recursive: true, encoding: "utf8" })
      .filter((f) => MANIFEST.test(f))
      .sort()
      .map((f) => join(p, f))
      .filter((f) => statSync(f).isFile());
  });
}

function fieldPath(field: string): (string | number)[] {
  return [...field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) =>
    m[2] !== undefined ? Number(m[2]) : (m[1] ?? ""),
  );
}

/** Where the child `key` of `node` starts (its key for a mapping) and the child node. */
function step(node: unknown, key: string | number): { at?: number; next: unknown } {
  if (isMap(node)) {
    const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
    return { at: (pair?.key as Node | undefined)?.range?.[0], next: pair?.value };
  }
  if (isSeq(node) && typeof key === "number") {
    const next: unknown = node.items[key];
    return { at: (next as Node | undefined)?.range?.[0], next };
  }
  return { next: undefined };
}

function nodeLine(doc: Document, lc: LineCounter, field: string): number {
  let node: unknown = doc.contents;
  let best = doc.contents?.range?.[0] ?? 0;
  for (const key of fieldPath(field)) {
    const { at, next } = step(node, key);
    if (at !== undefined) best = at;
    if (next === undefined || next === null) break;
    node = next;
  }
  return lc.linePos(best).line;
}

export function readManifests(files: string[]): { manifests: Manifest[]; problems: ReadProblem[] } {
  const manifests: Manifest[] = [];
  const problems: ReadProblem[] = [];
  for (const file of files) {
    const lc = new LineCounter();
    const docs = parseAllDocuments(readFileSync(file, "utf8"), { lineCounter: lc, prettyErrors: false });
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      const line = lc.linePos(doc.range[0]).line;
      if (doc.errors.length > 0) {
        for (const e of doc.errors)
          problems.push({ file, line: lc.linePos(e.pos[0]).line, message: `YAML: ${e.message}` });
        continue;
      }
      const object = doc.toJS() as unknown;
      if (object === null || object === undefined) continue;
      // Not a Kubernetes object (a list, a scalar, some other tool's file): not ours to judge.
      if (typeof object !== "object" || Array.isArray(object)) continue;
      manifests.push({
        file,
        line,
        object: object as Record<string, unknown>,
        lineOf: (f) => nodeLine(doc, lc, f),
      });
    }
  }
  return { manifests, problems };
}
