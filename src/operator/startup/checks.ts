// What the operator needs from the cluster before it can do anything, checked at start-up so a new
// installation is told what is missing instead of waiting silently: the namespace of its Lease and
// scope index, the three CRDs, and each RBAC permission it uses (asked with SelfSubjectAccessReview,
// which every authenticated user may create). decideStartup is pure; readStartupFacts asks the API
// server. A fact that cannot be established (the review itself refused) is not a problem by itself:
// the real call then fails and says why.
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { KubeConfig, V1SelfSubjectAccessReview } from "@kubernetes/client-node";
import {
  ACCESSAPPROVAL_PLURAL,
  ACCESSREQUEST_PLURAL,
  JITNOTIFIER_PLURAL,
  API_GROUP,
  API_VERSION,
  JITPOLICY_PLURAL,
  JITSCOPE_PLURAL,
  JITSCOPEINDEX_PLURAL,
} from "../../api/types.ts";
import { describeKubeError, kubeErrorSummary } from "../../runtime/kube-errors.ts";
import type { KubeErrorSummary } from "../../runtime/kube-errors.ts";
import type { Config } from "../../runtime/config.ts";

export type StartupConfig = Pick<
  Config,
  | "namespace"
  | "leaderElect"
  | "leaderElectionNamespace"
  | "leaderElectionId"
  | "scopeIndexName"
  | "signingSecretName"
>;

/** One permission, as a SelfSubjectAccessReview asks it. namespace undefined: cluster-wide. */
export interface PermissionCheck {
  verb: string;
  /** "" for the core group. */
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface PermissionFact {
  check: PermissionCheck;
  /** undefined when the review could not be made. */
  allowed: boolean | undefined;
}

export interface StartupFacts {
  /** Set when the API server could not be asked at all (unreachable, credentials refused). */
  unreachable?: KubeErrorSummary;
  /** The namespace the Lease and scope index live in; undefined when neither is enabled. */
  homeNamespace?: { name: string; exists: boolean | undefined };
  /** Plurals the server serves in jit.drawbridge.dev/v1alpha1; undefined when discovery was refused. */
  served: ReadonlySet<string> | undefined;
  permissions: readonly PermissionFact[];
}

export type StartupProblemKind = "unreachable" | "namespace" | "crds" | "rbac";

/** What is missing and the flag or command that fixes it. */
export interface StartupProblem {
  kind: StartupProblemKind;
  what: string;
  fix: string;
}

export const REQUIRED_PLURALS: readonly string[] = [
  JITPOLICY_PLURAL,
  ACCESSREQUEST_PLURAL,
  JITSCOPE_PLURAL,
  JITSCOPEINDEX_PLURAL,
  ACCESSAPPROVAL_PLURAL,
  JITNOTIFIER_PLURAL,
];

/** Why the home namespace is needed, for the message: the Lease, the scope index, or both. */
function homeUses(c: StartupConfig): string[] {
  return [
    ...(c.leaderElect ? [`the leader-election Lease "${c.leaderElectionId}"`] : []),
    ...(c.scopeIndexName === "" ? [] : [`the scope index JitScopeIndex "${c.scopeIndexName}"`]),
    `the signing key Secret "${c.signingSecretName}"`,
  ];
}

/** Every permission the operator uses, where it uses it. */
export function requiredPermissions(c: StartupConfig): PermissionCheck[] {
  const ns = c.namespace === undefined ? {} : { namespace: c.namespace };
  const own = (resource: string, verbs: string[], subresource?: string): PermissionCheck[] =>
    verbs.map((verb) => ({
      verb,
      group: API_GROUP,
      resource,
      ...(subresource === undefined ? {} : { subresource }),
      ...ns,
    }));
  const home = { namespace: c.leaderElectionNamespace };
  return [
    ...own(JITPOLICY_PLURAL, ["list", "watch", "patch"]),
    ...own(ACCESSREQUEST_PLURAL, ["list", "watch", "patch", "delete"]),
    // Read only: approvals count towards requests, notifiers say where events go.
    ...own(ACCESSAPPROVAL_PLURAL, ["list", "watch"]),
    ...own(JITNOTIFIER_PLURAL, ["list", "watch"]),
    ...own(JITPOLICY_PLURAL, ["patch"], "status"),
    ...own(ACCESSREQUEST_PLURAL, ["patch"], "status"),
    { verb: "create", group: "", resource: "events", ...ns },
    // Cluster-scoped whatever --namespace says: scopes and namespace labels decide what a namespace may target.
    { verb: "list", group: API_GROUP, resource: JITSCOPE_PLURAL },
    { verb: "watch", group: API_GROUP, resource: JITSCOPE_PLURAL },
    { verb: "list", group: "", resource: "namespaces" },
    { verb: "watch", group: "", resource: "namespaces" },
    ...(c.leaderElect
      ? [
          { verb: "create", group: "coordination.k8s.io", resource: "leases", ...home },
          ...["get", "update"].map((verb) => ({
            verb,
            group: "coordination.k8s.io",
            resource: "leases",
            name: c.leaderElectionId,
            ...home,
          })),
        ]
      : []),
    ...(c.scopeIndexName === ""
      ? []
      : [
          { verb: "create", group: API_GROUP, resource: JITSCOPEINDEX_PLURAL, ...home },
          ...["get", "update"].map((verb) => ({
            verb,
            group: API_GROUP,
            resource: JITSCOPEINDEX_PLURAL,
            name: c.scopeIndexName,
            ...home,
          })),
        ]),
    // The key that signs approvals and resolved targets: created once when absent, then only read.
    { verb: "create", group: "", resource: "secrets", ...home },
    { verb: "get", group: "", resource: "secrets", name: c.signingSecretName, ...home },
  ];
}

/** `list jitpolicies.jit.drawbridge.dev in namespace team-a`, `get leases.coordination.k8s.io "x" in ...`. */
export function describePermission(p: PermissionCheck): string {
  const resource = `${p.resource}${p.subresource === undefined ? "" : `/${p.subresource}`}`;
  const qualified = p.group === "" ? resource : `${resource}.${p.group}`;
  const name = p.name === undefined ? "" : ` "${p.name}"`;
  const where = p.namespace === undefined ? "cluster-wide" : `in namespace ${p.namespace}`;
  return `${p.verb} ${qualified}${name} ${where}`;
}

/** Problems that keep the operator from starting, in the order a user would fix them; [] when none. */
export function decideStartup(facts: StartupFacts, c: StartupConfig): StartupProblem[] {
  if (facts.unreachable !== undefined) {
    return [
      {
        kind: "unreachable",
        what: `the API server could not be asked (${describeKubeError(facts.unreachable)})`,
        fix: "check --kubeconfig (or the pod's service account token) and that the API server is reachable",
      },
    ];
  }
  const problems: StartupProblem[] = [];
  const home = facts.homeNamespace;
  if (home?.exists === false) {
    problems.push({
      kind: "namespace",
      what: `namespace "${home.name}" for ${homeUses(c).join(" and ")} does not exist`,
      fix: `kubectl create namespace ${home.name}, or start with --leader-election-namespace=<an existing namespace>`,
    });
  }
  const missing = facts.served === undefined ? [] : REQUIRED_PLURALS.filter((p) => !facts.served?.has(p));
  if (missing.length > 0) {
    problems.push({
      kind: "crds",
      what: `the API server does not serve ${missing.map((p) => `${p}.${API_GROUP}/${API_VERSION}`).join(", ")} (CRDs not installed)`,
      fix: "kubectl apply --server-side -f crds/ (or install the chart with crds.enabled=true)",
    });
  }
  // A permission on a kind that is not served yet is still checked: RBAC does not depend on the CRD.
  const denied = facts.permissions.filter((p) => p.allowed === false).map((p) => describePermission(p.check));
  if (denied.length > 0) {
    problems.push({
      kind: "rbac",
      what: `the operator's user may not ${denied.join("; ")}`,
      fix:
        "grant these to the operator's service account (the chart's RBAC in charts/drawbridge/templates/rbac-operator.yaml does); " +
        "check with kubectl auth can-i <verb> <resource> [-n <namespace>] --as=<the operator's user>",
    });
  }
  return problems;
}

/** One line for the log and /readyz: every problem with its fix. */
export function describeProblems(problems: readonly StartupProblem[]): string {
  return problems.map((p) => `${p.what} (fix: ${p.fix})`).join("; ");
}

/** A failure that says nothing about the cluster's state, only that it could not be asked. */
function unreachable(e: KubeErrorSummary): boolean {
  return e.code === undefined || e.code === 401 || e.code >= 500;
}

/** The plurals served in our group version; served undefined when discovery was refused. */
async function servedPlurals(
  kc: KubeConfig,
): Promise<{ served: ReadonlySet<string> | undefined; unreachable?: KubeErrorSummary }> {
  try {
    const api = kc.makeApiClient(CustomObjectsApi);
    const list = await api.getAPIResources({ group: API_GROUP, version: API_VERSION });
    return { served: new Set(list.resources.map((r) => r.name)) };
  } catch (err) {
    const e = kubeErrorSummary(err);
    if (e.code === 404) return { served: new Set<string>() };
    return unreachable(e) ? { served: undefined, unreachable: e } : { served: undefined };
  }
}

async function namespaceExists(kc: KubeConfig, name: string): Promise<boolean | undefined> {
  try {
    await kc.makeApiClient(CoreV1Api).readNamespace({ name });
    return true;
  } catch (err) {
    const code = kubeErrorSummary(err).code;
    return code === 404 ? false : undefined;
  }
}

/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- the generated model
   classes are plain JSON shapes; the API client serializes object literals the same way. */
async function allowed(api: AuthorizationV1Api, p: PermissionCheck): Promise<boolean | undefined> {
  const body: V1SelfSubjectAccessReview = {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: { resourceAttributes: { ...p } },
  };
  try {
    const review = await api.createSelfSubjectAccessReview({ body });
    return review.status?.allowed === true;
  } catch {
    return undefined;
  }
}
/* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */

/** Ask the API server what decideStartup needs; never rejects. */
export async function readStartupFacts(kc: KubeConfig, c: StartupConfig): Promise<StartupFacts> {
  const { served, unreachable: down } = await servedPlurals(kc);
  if (down !== undefined) return { unreachable: down, served: undefined, permissions: [] };
  const api = kc.makeApiClient(AuthorizationV1Api);
  const checks = requiredPermissions(c);
  const [exists, answers] = await Promise.all([
    homeUses(c).length === 0 ? Promise.resolve(undefined) : namespaceExists(kc, c.leaderElectionNamespace),
    Promise.all(checks.map((p) => allowed(api, p))),
  ]);
  return {
    ...(homeUses(c).length === 0 ? {} : { homeNamespace: { name: c.leaderElectionNamespace, exists } }),
    served,
    permissions: checks.map((check, i) => ({ check, allowed: answers[i] })),
  };
}

/** readStartupFacts + decideStartup. */
export async function checkStartup(kc: KubeConfig, c: StartupConfig): Promise<StartupProblem[]> {
  return decideStartup(await readStartupFacts(kc, c), c);
}
