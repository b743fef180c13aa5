// Pure parts of the control plane: retry on port clashes, which CRD files get applied, the API
// server's security-relevant flags.
import { describe, expect, test } from "@jest/globals";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiServerArgs } from "../../../src/controlplane/apiserver.ts";
import { crdFiles } from "../../../src/controlplane/crds.ts";
import { retryOnPortClash } from "../../../src/controlplane/retry.ts";

describe("retryOnPortClash", () => {
  test("retries a start that lost its port, up to the attempt limit", async () => {
    let calls = 0;
    const clash = (): Promise<number> => {
      calls++;
      if (calls < 3)
        return Promise.reject(new Error("listen tcp 127.0.0.1:4000: bind: address already in use"));
      return Promise.resolve(calls);
    };
    await expect(retryOnPortClash(clash)).resolves.toBe(3);
    calls = -10;
    await expect(retryOnPortClash(clash, 2)).rejects.toThrow(/address already in use/);
    expect(calls).toBe(-8);
  });

  test("does not retry other failures", async () => {
    let calls = 0;
    const fail = (): Promise<never> => {
      calls++;
      return Promise.reject(new Error("etcd exited during start-up"));
    };
    await expect(retryOnPortClash(fail)).rejects.toThrow(/exited/);
    expect(calls).toBe(1);
  });
});

describe("crdFiles", () => {
  test("takes the YAML files of the dir, sorted, without kustomization; a missing dir is empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "drawbridge-crdfiles-"));
    try {
      for (const f of ["b.yaml", "a.yml", "kustomization.yaml", "notes.md"]) writeFileSync(join(dir, f), "");
      await expect(crdFiles(dir)).resolves.toEqual([join(dir, "a.yml"), join(dir, "b.yaml")]);
      await expect(crdFiles(join(dir, "missing"))).resolves.toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("apiServerArgs", () => {
  test("secures the API server: RBAC, client CA, loopback only, admission policies on", () => {
    const pki = {
      dir: "/p",
      ca: { cert: "/p/ca.crt", key: "/p/ca.key" },
      serving: { cert: "/p/s.crt", key: "/p/s.key" },
      serviceAccount: { privateKey: "/p/sa.key", publicKey: "/p/sa.pub" },
    };
    const args = apiServerArgs(6443, {
      binDir: "/b",
      stateDir: "/s",
      etcdUrl: "http://127.0.0.1:2379",
      pki,
      admin: { cert: "", key: "" },
      detached: false,
    });
    expect(args).toEqual(
      expect.arrayContaining([
        "--authorization-mode=RBAC",
        "--client-ca-file=/p/ca.crt",
        "--bind-address=127.0.0.1",
        "--secure-port=6443",
        "--service-account-issuer=https://127.0.0.1:6443",
        "--service-account-signing-key-file=/p/sa.key",
        "--service-account-key-file=/p/sa.pub",
      ]),
    );
    const enabled = args.find((a) => a.startsWith("--enable-admission-plugins="));
    expect(enabled?.split("=")[1]?.split(",")).toContain("ValidatingAdmissionPolicy");
    expect(args.some((a) => a.startsWith("--authorization-mode=") && a.includes("AlwaysAllow"))).toBe(false);
  });
});
