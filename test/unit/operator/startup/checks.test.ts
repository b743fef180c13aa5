import { describe, expect, it } from "@jest/globals";
import { ApiException } from "@kubernetes/client-node";
import {
  describeKubeError,
  kubeErrorFields,
  kubeErrorSummary,
  RepeatedError,
} from "../../../../src/runtime/kube-errors.ts";
import {
  REQUIRED_PLURALS,
  decideStartup,
  describePermission,
  describeProblems,
  requiredPermissions,
} from "../../../../src/operator/startup/checks.ts";
import type {
  PermissionCheck,
  StartupConfig,
  StartupFacts,
} from "../../../../src/operator/startup/checks.ts";

const config: StartupConfig = {
  namespace: undefined,
  leaderElect: true,
  leaderElectionNamespace: "drawbridge-system",
  leaderElectionId: "drawbridge-leader",
  scopeIndexName: "drawbridge-scope-index",
  signingSecretName: "drawbridge-signing-key",
};

function healthy(c: StartupConfig = config): StartupFacts {
  return {
    homeNamespace: { name: c.leaderElectionNamespace, exists: true },
    served: new Set(REQUIRED_PLURALS),
    permissions: requiredPermissions(c).map((check) => ({ check, allowed: true })),
  };
}

function denying(facts: StartupFacts, match: (p: PermissionCheck) => boolean): StartupFacts {
  return {
    ...facts,
    permissions: facts.permissions.map((p) => ({ ...p, allowed: match(p.check) ? false : p.allowed })),
  };
}

describe("requiredPermissions", () => {
  it("lists the reads of every kind, the Lease and the scope index, where the operator uses them", () => {
    const all = requiredPermissions(config).map(describePermission);
    expect(all).toEqual(
      expect.arrayContaining([
        "list jitpolicies.jit.drawbridge.dev cluster-wide",
        "watch accessrequests.jit.drawbridge.dev cluster-wide",
        "watch jitscopes.jit.drawbridge.dev cluster-wide",
        "list namespaces cluster-wide",
        "create leases.coordination.k8s.io in namespace drawbridge-system",
        'get leases.coordination.k8s.io "drawbridge-leader" in namespace drawbridge-system',
        'update leases.coordination.k8s.io "drawbridge-leader" in namespace drawbridge-system',
        "create jitscopeindexes.jit.drawbridge.dev in namespace drawbridge-system",
        'get jitscopeindexes.jit.drawbridge.dev "drawbridge-scope-index" in namespace drawbridge-system',
        'update jitscopeindexes.jit.drawbridge.dev "drawbridge-scope-index" in namespace drawbridge-system',
        "patch accessrequests/status.jit.drawbridge.dev cluster-wide",
      ]),
    );
  });

  it("asks in the watched namespace with --namespace, but scopes and namespaces stay cluster-wide", () => {
    const all = requiredPermissions({ ...config, namespace: "team-a" }).map(describePermission);
    expect(all).toContain("list jitpolicies.jit.drawbridge.dev in namespace team-a");
    expect(all).toContain("list jitscopes.jit.drawbridge.dev cluster-wide");
    expect(all).toContain("watch namespaces cluster-wide");
  });

  it("leaves out the Lease without leader election and the index without a scope index name", () => {
    const all = requiredPermissions({ ...config, leaderElect: false, scopeIndexName: "" });
    expect(all.filter((p) => p.resource === "leases" || p.resource === "jitscopeindexes")).toEqual([]);
  });
});

describe("decideStartup", () => {
  it("finds nothing wrong with a complete installation", () => {
    expect(decideStartup(healthy(), config)).toEqual([]);
  });

  it("names a missing Lease namespace and both ways to fix it", () => {
    const facts = { ...healthy(), homeNamespace: { name: "drawbridge-system", exists: false } };
    const [p, ...rest] = decideStartup(facts, config);
    expect(rest).toEqual([]);
    expect(p?.kind).toBe("namespace");
    expect(p?.what).toContain('namespace "drawbridge-system"');
    expect(p?.what).toContain('the leader-election Lease "drawbridge-leader"');
    expect(p?.fix).toContain("kubectl create namespace drawbridge-system");
    expect(p?.fix).toContain("--leader-election-namespace");
  });

  it("an unknown namespace (not allowed to read it) is no problem by itself", () => {
    const facts = { ...healthy(), homeNamespace: { name: "drawbridge-system", exists: undefined } };
    expect(decideStartup(facts, config)).toEqual([]);
  });

  it("names each CRD the server does not serve, and the command that installs them", () => {
    const problems = decideStartup({ ...healthy(), served: new Set(["jitpolicies"]) }, config);
    expect(problems.map((p) => p.kind)).toEqual(["crds"]);
    expect(problems[0]?.what).toContain("accessrequests.jit.drawbridge.dev/v1alpha1");
    expect(problems[0]?.what).toContain("jitscopes.jit.drawbridge.dev/v1alpha1");
    expect(problems[0]?.what).not.toContain("jitpolicies");
    expect(problems[0]?.fix).toContain("kubectl apply --server-side -f crds/");
  });

  it("skips the CRD check when discovery was refused", () => {
    expect(decideStartup({ ...healthy(), served: undefined }, config)).toEqual([]);
  });

  it("names every denied permission in one problem, and only those", () => {
    const facts = denying(
      healthy(),
      (c) =>
        (c.resource === "jitscopes" && c.verb === "watch") ||
        (c.resource === "leases" && c.verb === "update"),
    );
    const problems = decideStartup(facts, config);
    expect(problems.map((p) => p.kind)).toEqual(["rbac"]);
    expect(problems[0]?.what).toBe(
      "the operator's user may not watch jitscopes.jit.drawbridge.dev cluster-wide; " +
        'update leases.coordination.k8s.io "drawbridge-leader" in namespace drawbridge-system',
    );
    expect(problems[0]?.fix).toContain("rbac-operator.yaml");
  });

  it("an unanswered review is not a denial", () => {
    const facts = {
      ...healthy(),
      permissions: healthy().permissions.map((p) => ({ ...p, allowed: undefined })),
    };
    expect(decideStartup(facts, config)).toEqual([]);
  });

  it("reports several problems in the order they are fixed, on one line", () => {
    const facts = denying(
      {
        ...healthy(),
        homeNamespace: { name: "drawbridge-system", exists: false },
        served: new Set<string>(),
      },
      (c) => c.resource === "namespaces",
    );
    const problems = decideStartup(facts, config);
    expect(problems.map((p) => p.kind)).toEqual(["namespace", "crds", "rbac"]);
    const line = describeProblems(problems);
    expect(line).not.toContain("\n");
    expect(line).toContain("(fix: kubectl create namespace drawbridge-system");
  });

  it("an unreachable API server is the only problem reported", () => {
    const facts: StartupFacts = {
      unreachable: { code: undefined, reason: undefined, message: "TypeError: fetch failed (ECONNREFUSED)" },
      served: undefined,
      permissions: [],
    };
    const problems = decideStartup(facts, config);
    expect(problems.map((p) => p.kind)).toEqual(["unreachable"]);
    expect(problems[0]?.what).toContain("ECONNREFUSED");
    expect(problems[0]?.fix).toContain("--kubeconfig");
  });

  it("the namespace message says the scope index needs it even without leader election", () => {
    const c = { ...config, leaderElect: false };
    const facts = { ...healthy(c), homeNamespace: { name: "drawbridge-system", exists: false } };
    expect(decideStartup(facts, c)[0]?.what).toBe(
      'namespace "drawbridge-system" for the scope index JitScopeIndex "drawbridge-scope-index" and the signing key Secret "drawbridge-signing-key" does not exist',
    );
  });
});

describe("kube error logging", () => {
  const status = JSON.stringify({
    kind: "Status",
    reason: "NotFound",
    message: 'namespaces "x" not found',
    code: 404,
  });
  const apiError = new ApiException(404, "Unknown API Status Code!", status, {
    authorization: "Bearer secret",
  });

  it("logs code, reason and message, never headers or a stack", () => {
    const fields = kubeErrorFields(apiError);
    expect(fields).toEqual({ code: 404, reason: "NotFound", error: 'namespaces "x" not found' });
    expect(JSON.stringify(fields)).not.toContain("secret");
    expect(describeKubeError(kubeErrorSummary(apiError))).toBe('404 NotFound: namespaces "x" not found');
  });

  it("a network error carries its cause, a watch error its status code, a Status object its fields", () => {
    const fetchFailed = new TypeError("fetch failed", {
      cause: { code: "ECONNREFUSED", message: "connect ECONNREFUSED" },
    });
    expect(kubeErrorFields(fetchFailed)).toEqual({ error: "TypeError: fetch failed (connect ECONNREFUSED)" });
    const watch = Object.assign(new Error("Forbidden"), { statusCode: 403 });
    expect(kubeErrorFields(watch)).toEqual({ code: 403, error: "Error: Forbidden" });
    expect(kubeErrorFields({ kind: "Status", code: 500, reason: "InternalError", message: "boom" })).toEqual({
      code: 500,
      reason: "InternalError",
      error: "boom",
    });
  });

  it("RepeatedError: news on the first failure and on each change, not on repeats", () => {
    const r = new RepeatedError();
    const a = kubeErrorSummary(apiError);
    const b = { code: 403, reason: "Forbidden", message: "no" };
    expect([r.isNew(a), r.isNew(a), r.isNew(a), r.isNew(b), r.isNew(b), r.isNew(a)]).toEqual([
      true,
      false,
      false,
      true,
      false,
      true,
    ]);
    expect(r.reset()).toBe(6);
    expect(r.isNew(a)).toBe(true);
  });
});
