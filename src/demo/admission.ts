// The demo enforces what a cluster with the chart installed enforces: it renders charts/drawbridge
// with the pinned helm, as the demo's release, and installs every ValidatingAdmissionPolicy and
// binding the chart renders, unchanged. Taking them from the rendered chart (not from a copy) means a
// policy added to the chart later guards the demo too.
import { stringify } from "yaml";
import { kubectl, kubectlOk } from "../controlplane/index.ts";
import type { ControlPlane } from "../controlplane/index.ts";
import { ensureHelm } from "../helm/build.ts";
import { renderChart } from "../helm/template.ts";
import type { Manifest } from "../helm/template.ts";
import { DEMO_RELEASE } from "./names.ts";

export const ADMISSION_KINDS: readonly string[] = [
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
];

/**
 * The admission objects among rendered manifests. Refuses a rendering without any policy or binding,
 * and a policy without a binding or a binding without its policy: either enforces nothing.
 */
export function admissionObjects(manifests: Manifest[]): Manifest[] {
  const picked = manifests.filter((m) => ADMISSION_KINDS.includes(m.kind));
  for (const kind of ADMISSION_KINDS) {
    if (!picked.some((m) => m.kind === kind)) {
      throw new Error(
        `the chart rendered no ${kind}; the demo will not run without the chart's admission policies`,
      );
    }
  }
  const policies = picked.filter((m) => m.kind === "ValidatingAdmissionPolicy").map((m) => m.metadata.name);
  const bound = picked
    .filter((m) => m.kind === "ValidatingAdmissionPolicyBinding")
    .map((m) => ({
      name: m.metadata.name,
      policy: (m.spec as { policyName?: string } | undefined)?.policyName,
    }));
  for (const b of bound) {
    if (b.policy === undefined || !policies.includes(b.policy)) {
      throw new Error(
        `ValidatingAdmissionPolicyBinding ${b.name}: spec.policyName "${b.policy ?? ""}" names no policy the chart rendered`,
      );
    }
  }
  for (const p of policies) {
    if (!bound.some((b) => b.policy === p)) {
      throw new Error(
        `ValidatingAdmissionPolicy ${p}: the chart rendered no binding for it, so it would enforce nothing`,
      );
    }
  }
  return picked;
}

/** Where a binding reads its parameter object (the scope index, a JitScopeIndex). */
export interface ParamRef {
  name: string;
  namespace: string;
}

/**
 * The JitScopeIndex the rendered bindings take as their parameter (the scope index the operator must
 * publish), or undefined when no rendered policy takes one. Refuses several different ones and one
 * outside the release namespace: the operator publishes one index, in its own namespace.
 */
export function scopeIndexRef(objects: Manifest[]): ParamRef | undefined {
  const indexPolicies = objects
    .filter((m) => m.kind === "ValidatingAdmissionPolicy")
    .filter(
      (m) => (m.spec as { paramKind?: { kind?: string } } | undefined)?.paramKind?.kind === "JitScopeIndex",
    )
    .map((m) => m.metadata.name);
  const refs = objects
    .filter((m) => m.kind === "ValidatingAdmissionPolicyBinding")
    .map((m) => m.spec as { policyName?: string; paramRef?: { name?: string; namespace?: string } })
    .filter((spec) => indexPolicies.includes(spec.policyName ?? ""))
    .map((spec) => ({ name: spec.paramRef?.name ?? "", namespace: spec.paramRef?.namespace ?? "" }));
  const distinct = [...new Set(refs.map((r) => `${r.namespace}/${r.name}`))];
  if (distinct.length === 0) return undefined;
  const ref = refs[0] as ParamRef;
  if (distinct.length > 1 || ref.name === "" || ref.namespace !== DEMO_RELEASE.namespace) {
    throw new Error(
      `the chart's JitScopeIndex parameters are ${distinct.join(", ")}; the operator publishes one, named, in ${DEMO_RELEASE.namespace}`,
    );
  }
  return ref;
}

/**
 * Who the demo's operator is to the API server: it runs with the admin kubeconfig (stack.ts), not as
 * the chart's ServiceAccount, and the chart lets only the operator's identities change drawbridge's
 * finalizer, so the demo names it in admissionPolicy.operatorUsernames.
 */
export const DEMO_OPERATOR_USER = "admin";

/**
 * Renders the chart as the demo's release and returns its admission objects. Builds helm on first
 * use (tools/helm/build.sh, cached under ~/.cache/drawbridge/helm); `log` gets the build's
 * start and end lines.
 */
export async function renderAdmission(log: (line: string) => void): Promise<Manifest[]> {
  const helm = await ensureHelm({
    env: process.env,
    onProgress: (chunk) => {
      for (const line of chunk.split("\n")) if (/^buil(t|ding) /.test(line)) log(line);
    },
  });
  const manifests = await renderChart(helm, {
    releaseName: DEMO_RELEASE.name,
    namespace: DEMO_RELEASE.namespace,
    values: { admissionPolicy: { operatorUsernames: [DEMO_OPERATOR_USER] } },
  });
  return admissionObjects(manifests);
}

/** Creates or updates the admission objects as the admin. */
export async function installAdmission(plane: ControlPlane, objects: Manifest[]): Promise<void> {
  const input = objects.map((o) => stringify(o)).join("---\n");
  await kubectlOk(["apply", "-f", "-"], { binDir: plane.binDir, kubeconfig: plane.kubeconfigs.admin, input });
}

/**
 * Waits until the API server enforces the admission objects just installed (its policy informer
 * picks them up asynchronously): alice's server-side dry run of `forged`, a request in bob's name,
 * must be refused naming spec.requester. Resolves to kubectl's message; throws when it is still admitted at the
 * deadline, because a demo that lets alice act as bob must not start.
 */
export async function waitRequesterEnforced(
  plane: ControlPlane,
  forged: string,
  timeoutMs = 30_000,
): Promise<string> {
  const opts = { binDir: plane.binDir, kubeconfig: plane.kubeconfigs.alice, input: forged };
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const r = await kubectl(["create", "--dry-run=server", "-f", "-"], opts);
    last = r.code === 0 ? "admitted" : r.stderr.trim();
    if (r.code !== 0 && last.includes("spec.requester")) return last;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `alice's request in bob's name is not refused ${timeoutMs}ms after installing the admission policies (last: ${last})`,
  );
}
