// The shared control plane is a real, secured kube-apiserver: version, users from client
// certificates, RBAC, and the admission API the chart's ValidatingAdmissionPolicy needs.
import { describe, expect, jest, test } from "@jest/globals";
import { testCluster } from "../support/cluster.ts";

jest.setTimeout(60_000);

type WhoAmI = { status: { userInfo: { username: string; groups: string[] } } };

async function whoami(user: string): Promise<WhoAmI["status"]["userInfo"]> {
  const r = await testCluster().kubectl(["auth", "whoami", "-o", "json"], { as: user });
  expect(r.stderr).toBe("");
  return (JSON.parse(r.stdout) as WhoAmI).status.userInfo;
}

describe("local control plane", () => {
  test("serves Kubernetes 1.34 and kubectl matches it", async () => {
    const c = testCluster();
    const r = await c.kubectl(["version", "-o", "json"]);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as {
      clientVersion: { minor: string };
      serverVersion: { gitVersion: string };
    };
    expect(v.serverVersion.gitVersion).toMatch(/^v1\.34\./);
    expect(v.clientVersion.minor).toBe("34");
    expect(c.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test("client certificates name the users and their groups", async () => {
    expect(await whoami("admin")).toMatchObject({
      username: "admin",
      groups: expect.arrayContaining(["system:masters"]),
    });
    expect(await whoami("alice")).toMatchObject({
      username: "alice",
      groups: expect.arrayContaining(["team-a"]),
    });
    expect(await whoami("bob")).toMatchObject({
      username: "bob",
      groups: expect.arrayContaining(["team-b"]),
    });
  });

  test("minted users get their own identity", async () => {
    const c = testCluster();
    await c.mintUser("carol", ["team-a", "auditors"]);
    expect(await whoami("carol")).toMatchObject({
      username: "carol",
      groups: expect.arrayContaining(["team-a", "auditors"]),
    });
    await expect(c.mintUser("bad/name", [])).rejects.toThrow(/user and group names must match/);
  });

  test("RBAC is enforced: users without bindings are forbidden, admin is not", async () => {
    const c = testCluster();
    const ns = await c.createNamespace("rbac");
    const denied = await c.kubectl(["create", "configmap", "x", "-n", ns], { as: "alice" });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden: User "alice" cannot create resource "configmaps"/);
    const allowed = await c.kubectl(["create", "configmap", "x", "-n", ns]);
    expect(allowed.stderr).toBe("");
    expect(allowed.code).toBe(0);
  });

  test("ValidatingAdmissionPolicy is served and enforced", async () => {
    const c = testCluster();
    const ns = await c.createNamespace("vap");
    const policy = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: { name: ${ns}-no-forbidden-data }
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"] }
  validations:
    - expression: "!has(object.data) || !('forbidden' in object.data)"
      message: "data.forbidden is not allowed"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: { name: ${ns}-no-forbidden-data }
spec:
  policyName: ${ns}-no-forbidden-data
  validationActions: [Deny]
  matchResources:
    namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ${ns} } }
`;
    expect((await c.kubectl(["apply", "-f", "-"], { input: policy })).code).toBe(0);
    // The policy reaches the admission plugin asynchronously: poll until it denies.
    let last = { code: 0, stdout: "", stderr: "" };
    for (let i = 0; i < 100; i++) {
      last = await c.kubectl(["create", "configmap", `c${i}`, "-n", ns, "--from-literal=forbidden=1"]);
      if (last.code !== 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(last.code).not.toBe(0);
    expect(last.stderr).toContain("data.forbidden is not allowed");
    const ok = await c.kubectl(["create", "configmap", "fine", "-n", ns, "--from-literal=allowed=1"]);
    expect(ok.code).toBe(0);
    await c.kubectl([
      "delete",
      "validatingadmissionpolicybinding,validatingadmissionpolicy",
      `${ns}-no-forbidden-data`,
    ]);
  });
});
