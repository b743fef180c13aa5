// Start-up as a new user meets it: the real operator (`node bin/drawbridge.js run`) against the real
// API server with a prerequisite missing. Each case must give one clear line naming what is missing
// and its fix, /readyz 503 with that reason, and exit code 3 after --startup-timeout, never a silent
// wait or an ApiException dump per retry. The missing-CRD case runs on a control plane of its own
// (without CRDs), so it does not disturb the tests sharing the run's plane.
import { afterAll, describe, expect, jest, test } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectl, startControlPlane } from "../../src/controlplane/index.ts";
import type { ControlPlane } from "../../src/controlplane/index.ts";
import { EXIT_STARTUP_FAILED } from "../../src/operator/startup/gate.ts";
import { testCluster } from "../support/cluster.ts";
import { OperatorProcess, operatorChild } from "../support/operator-process.ts";
import { eventually } from "../support/poll.ts";

jest.setTimeout(180_000);

const ROOT = join(import.meta.dirname, "..", "..");
const BLOCKED = "start-up blocked:";

type Readyz = { status: number; body: string };

class RunningOperator extends OperatorProcess {
  constructor(args: string[]) {
    super(
      operatorChild([
        "run",
        // Never reached: start-up stops before any Azure call.
        "--arm-endpoint=https://127.0.0.1:9",
        "--metrics-bind-address=0",
        "--health-probe-bind-address=127.0.0.1:0",
        "--allow-unguarded-namespaces",
        ...args,
      ]),
    );
    running.push(this);
  }

  /** The /readyz base address, from the "drawbridge operator starting" line. */
  async healthAddress(): Promise<string> {
    const match = await this.waitForLog(/"health":"([^"]+)".*drawbridge operator starting/, 30_000);
    return match[1] ?? "";
  }

  async readyz(): Promise<Readyz> {
    const res = await fetch(`http://${await this.healthAddress()}/readyz`);
    return { status: res.status, body: await res.text() };
  }

  /** Poll /readyz until its answer satisfies `ok`; a request that fails (not a wrong answer) fails at once. */
  async readyzUntil(ok: (r: Readyz) => boolean, timeoutMs = 30_000): Promise<Readyz> {
    const seen: { last?: Readyz; failed?: Error } = {};
    const answered = async (): Promise<boolean> => {
      try {
        seen.last = await this.readyz();
      } catch (err) {
        seen.failed = err instanceof Error ? err : new Error(String(err));
        return true;
      }
      return ok(seen.last);
    };
    try {
      await eventually("/readyz", answered, timeoutMs, 200);
    } catch {
      throw new Error(`/readyz still ${String(seen.last?.status)} ${seen.last?.body ?? ""}\n${this.logs()}`);
    }
    if (seen.failed !== undefined) throw seen.failed;
    return seen.last as Readyz;
  }
}

const running: RunningOperator[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const op of running) await op.stop();
  for (const c of cleanups.reverse()) await c();
});

/** What a dump would contain and a summary never does. */
function expectNoDump(output: string): void {
  expect(output).not.toContain("ApiException");
  expect(output).not.toContain('"stack"');
  expect(output).not.toContain("HTTP-Code");
  expect(output).not.toMatch(/"headers"/);
}

describe("operator start-up with a prerequisite missing", () => {
  test("a missing Lease namespace: one line with the fix, /readyz 503 saying so, exit 3 after the timeout", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("startup-ns");
    const missing = `missing-${randomBytes(4).toString("hex")}`;
    const op = new RunningOperator([
      `--kubeconfig=${cluster.adminKubeconfig}`,
      `--namespace=${ns}`,
      `--leader-election-namespace=${missing}`,
      "--startup-timeout=8s",
    ]);
    const ready = await op.readyzUntil((r) => r.body.includes(BLOCKED));
    expect(ready.status).toBe(503);
    expect(ready.body).toContain(`namespace "${missing}"`);
    expect(ready.body).toContain(`kubectl create namespace ${missing}`);
    expect(ready.body).toContain("--leader-election-namespace");

    expect(await op.exited).toEqual({ code: EXIT_STARTUP_FAILED, signal: null });
    // Checked every 5 s for 8 s: still one line, because nothing changed.
    const blocked = op
      .lines(BLOCKED)
      .filter((l) => l.includes('"level":"error"') && !l.includes("did not complete"));
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toContain(`namespace \\"${missing}\\" for the leader-election Lease`);
    expect(op.lines("did not complete within --startup-timeout=8s")).toHaveLength(1);
    expect(op.lines("lease acquire/renew failed")).toEqual([]);
    expectNoDump(op.logs());
  });

  test("the namespace created while it waits: start-up goes on and the operator becomes ready", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("startup-late");
    const late = `late-${randomBytes(4).toString("hex")}`;
    const op = new RunningOperator([
      `--kubeconfig=${cluster.adminKubeconfig}`,
      `--namespace=${ns}`,
      `--leader-election-namespace=${late}`,
      "--startup-timeout=2m",
    ]);
    await op.readyzUntil((r) => r.body.includes(BLOCKED));
    const created = await cluster.kubectl(["create", "namespace", late]);
    expect(created.code).toBe(0);
    const ready = await op.readyzUntil((r) => r.status === 200);
    expect(ready.body.trim()).toBe("ok");
    await op.waitForLog("leading: starting reconcilers", 30_000);
    expect(await op.stop()).toEqual({ code: 0, signal: null });
    expect(op.lines(BLOCKED)).toHaveLength(1);
    expectNoDump(op.logs());
  });

  test("a user missing one permission: the line names exactly that permission", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("startup-rbac");
    const user = `startup-op-${randomBytes(4).toString("hex")}`;
    const kubeconfig = await cluster.mintUser(user, []);
    // Everything the operator uses, as the chart grants it, except `watch` on jitscopes.
    const rbac = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: startup-op, namespace: ${ns} }
rules:
  - apiGroups: ["jit.drawbridge.dev"]
    resources: ["jitpolicies", "accessrequests"]
    verbs: ["get", "list", "watch", "update", "patch", "delete"]
  - apiGroups: ["jit.drawbridge.dev"]
    resources: ["accessapprovals", "jitnotifiers"]
    verbs: ["get", "list", "watch"]
  - apiGroups: ["jit.drawbridge.dev"]
    resources: ["jitpolicies/status", "accessrequests/status"]
    verbs: ["get", "update", "patch"]
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["create", "get", "update", "patch"]
  - apiGroups: ["jit.drawbridge.dev"]
    resources: ["jitscopeindexes"]
    verbs: ["create", "get", "update", "patch"]
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["create", "get", "update"]
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["create", "get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: startup-op, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: startup-op }
subjects: [{ kind: User, name: ${user} }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ${user} }
rules:
  - apiGroups: ["jit.drawbridge.dev"]
    resources: ["jitscopes"]
    verbs: ["get", "list"]
  - apiGroups: [""]
    resources: ["namespaces"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: ${user} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${user} }
subjects: [{ kind: User, name: ${user} }]
`;
    const applied = await cluster.kubectl(["apply", "-f", "-"], { input: rbac });
    expect(applied.stderr).toBe("");
    cleanups.push(() =>
      cluster.kubectl([
        "delete",
        "clusterrole,clusterrolebinding",
        user,
        "--ignore-not-found",
        "--wait=false",
      ]),
    );
    const op = new RunningOperator([
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${ns}`,
      `--leader-election-namespace=${ns}`,
      "--startup-timeout=6s",
    ]);
    const ready = await op.readyzUntil((r) => r.body.includes(BLOCKED));
    expect(ready.status).toBe(503);
    expect(ready.body).toContain(
      "start-up blocked: the operator's user may not watch jitscopes.jit.drawbridge.dev cluster-wide (fix: ",
    );
    expect(await op.exited).toEqual({ code: EXIT_STARTUP_FAILED, signal: null });
    const blocked = op.lines(BLOCKED).filter((l) => !l.includes("did not complete"));
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toContain("may not watch jitscopes.jit.drawbridge.dev cluster-wide (fix: grant these");
    expectNoDump(op.logs());
  });

  test("a user with no RBAC at all: the line names each permission, in the watched namespace", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("startup-norbac");
    const kubeconfig = await cluster.mintUser(`startup-none-${randomBytes(4).toString("hex")}`, []);
    const op = new RunningOperator([
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${ns}`,
      `--leader-election-namespace=${ns}`,
      "--startup-timeout=3s",
    ]);
    expect(await op.exited).toEqual({ code: EXIT_STARTUP_FAILED, signal: null });
    const [line, ...more] = op.lines(BLOCKED).filter((l) => !l.includes("did not complete"));
    expect(more).toEqual([]);
    for (const perm of [
      `list jitpolicies.jit.drawbridge.dev in namespace ${ns}`,
      `watch accessrequests.jit.drawbridge.dev in namespace ${ns}`,
      "list jitscopes.jit.drawbridge.dev cluster-wide",
      "watch namespaces cluster-wide",
      `create leases.coordination.k8s.io in namespace ${ns}`,
      `update jitscopeindexes.jit.drawbridge.dev \\"drawbridge-scope-index\\" in namespace ${ns}`,
      `create secrets in namespace ${ns}`,
      `get secrets \\"drawbridge-signing-key\\" in namespace ${ns}`,
    ]) {
      expect(line).toContain(perm);
    }
    expectNoDump(op.logs());
  });
});

describe("operator start-up on a cluster without the CRDs", () => {
  let plane: ControlPlane | undefined;

  afterAll(async () => {
    await plane?.stop();
  });

  test("names the three CRDs and the command that installs them, then goes on once they are applied", async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), "drawbridge-no-crds-"));
    cleanups.push(() => {
      rmSync(emptyDir, { recursive: true, force: true });
      return Promise.resolve();
    });
    plane = await startControlPlane({ crdsDir: emptyDir });
    const admin = plane.kubeconfigs.admin;
    const op = new RunningOperator([
      `--kubeconfig=${admin}`,
      "--leader-elect=false",
      "--leader-election-namespace=default",
      "--scope-index-name=",
      "--startup-timeout=2m",
    ]);
    const ready = await op.readyzUntil((r) => r.body.includes(BLOCKED), 60_000);
    expect(ready.status).toBe(503);
    for (const crd of ["jitpolicies", "accessrequests", "jitscopes"])
      expect(ready.body).toContain(`${crd}.jit.drawbridge.dev/v1alpha1`);
    expect(ready.body).toContain("kubectl apply --server-side -f crds/");

    const applied = await kubectl(["apply", "--server-side", "-f", join(ROOT, "crds")], {
      binDir: plane.binDir,
      kubeconfig: admin,
    });
    expect(applied.code).toBe(0);
    await op.readyzUntil((r) => r.status === 200, 60_000);
    expect(await op.stop()).toEqual({ code: 0, signal: null });
    // CRDs become established one by one: a line per distinct state, never one per check.
    const messages = op.lines(BLOCKED).map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages.length).toBeGreaterThanOrEqual(1);
    expect(new Set(messages).size).toBe(messages.length);
    expectNoDump(op.logs());
  });
});
