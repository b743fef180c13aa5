// `drawbridge validate`: for every drawbridge object in the manifests, the CRD's checks (schema and
// CEL, as admission runs them) and then the core's semantic checks, each finding with file, line and
// field. Objects of other API groups are skipped: kubeconform and friends check those.
import type { AccessRequest, JitPolicy } from "../../api/types.ts";
import { API_GROUP } from "../../api/types.ts";
import { validatePolicySpec } from "../../core/validate-policy.ts";
import { REQUEST_CHECKS, runRequestChecks } from "../../core/request-checks.ts";
import { requestShapeIssues } from "../../core/validate-request.ts";
import type { Manifest, ReadProblem } from "./files.ts";
import type { SchemaProblem } from "./crd-schema.ts";

export interface Finding {
  file: string;
  line: number;
  object: string;
  field: string;
  message: string;
}

export interface CheckResult {
  findings: Finding[];
  checked: number;
  skipped: number;
}

type SchemaCheck = (objects: unknown[]) => SchemaProblem[][];

function label(o: Record<string, unknown>): string {
  const meta = (o["metadata"] ?? {}) as Record<string, unknown>;
  const ns = typeof meta["namespace"] === "string" ? `${meta["namespace"]}/` : "";
  const name = [meta["name"], meta["generateName"]].find((n) => typeof n === "string") ?? "<unnamed>";
  return `${String(o["kind"])} ${ns}${name}`;
}

function isOurs(o: Record<string, unknown>): boolean {
  return typeof o["apiVersion"] === "string" && o["apiVersion"].startsWith(`${API_GROUP}/`);
}

function policyKey(ns: unknown, name: unknown): string {
  return `${String(ns)}/${String(name)}`;
}

function coreIssues(m: Manifest, policies: Map<string, JitPolicy>): { field: string; message: string }[] {
  const kind = m.object["kind"];
  if (kind === "JitPolicy") return validatePolicySpec(m.object["spec"]);
  if (kind !== "AccessRequest") return [];
  const shape = requestShapeIssues(m.object["spec"]);
  if (shape.length > 0) return shape;
  const request = m.object as unknown as AccessRequest;
  // Checked against its policy only when that policy is among the manifests: offline, a policy
  // that lives only in the cluster is unknown, not missing.
  const policy = policies.get(policyKey(request.metadata.namespace, request.spec.policyName));
  return policy === undefined ? [] : runRequestChecks(REQUEST_CHECKS, { request, policy });
}

export function checkManifests(manifests: Manifest[], read: ReadProblem[], schema: SchemaCheck): CheckResult {
  const findings: Finding[] = read.map((p) => ({ ...p, object: "-", field: "-" }));
  const ours = manifests.filter((m) => isOurs(m.object));
  // Defaults and pruning happen inside the helper on its own copy; the core sees what was written.
  const schemaResults = schema(ours.map((m) => m.object));
  const policies = new Map<string, JitPolicy>();
  for (const m of ours) {
    if (m.object["kind"] !== "JitPolicy") continue;
    const meta = (m.object["metadata"] ?? {}) as { namespace?: unknown; name?: unknown };
    policies.set(policyKey(meta.namespace, meta.name), m.object as unknown as JitPolicy);
  }
  ours.forEach((m, i) => {
    const at = (field: string, message: string): Finding => ({
      file: m.file,
      line: m.lineOf(field),
      object: label(m.object),
      field,
      message,
    });
    const problems = schemaResults[i] ?? [];
    for (const p of problems) findings.push(at(p.field, `${p.detail} (${p.type})`));
    // The core repeats the schema's checks; run it only on objects admission would accept, so a
    // finding is reported once.
    if (problems.length === 0)
      for (const issue of coreIssues(m, policies)) findings.push(at(issue.field, issue.message));
  });
  return { findings, checked: ours.length, skipped: manifests.length - ours.length };
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: ${f.object}: ${f.field}: ${f.message}`;
}
