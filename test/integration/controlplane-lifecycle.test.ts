// Starting and stopping control planes leaves nothing behind: the CLI's up/env/down round trip,
// and daemons whose owner is SIGKILLed die with it and are reaped by the next run.
import { describe, expect, jest, test } from "@jest/globals";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readState, reapStaleControlPlanes } from "../../src/controlplane/index.ts";
import type { ControlPlaneState } from "../../src/controlplane/index.ts";
import { testCluster } from "../support/cluster.ts";
import { repoPath } from "../support/manifests.ts";

jest.setTimeout(240_000);

const node = process.execPath;

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(node, [repoPath("bin/drawbridge.js"), "cluster", ...args], {
    encoding: "utf8",
    timeout: 180_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function alive(pid: number): boolean {
  try {
    const stat = spawnSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).stdout.trim();
    return stat !== "" && !stat.startsWith("Z");
  } catch {
    return false;
  }
}

async function gone(pids: number[], timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  return !pids.some(alive);
}

const pidsOf = (state: ControlPlaneState): number[] => state.daemons.map((d) => d.pid);

describe("control plane lifecycle", () => {
  test("cluster up starts detached daemons, up again reuses them, env reports them, down removes everything", async () => {
    const base = mkdtempSync(join(tmpdir(), "drawbridge-lifecycle-"));
    const stateDir = join(base, "cluster");
    const noCrds = join(base, "no-crds");
    try {
      const up = cli(["up", "--state-dir", stateDir, "--crds", noCrds]);
      expect({ code: up.code, stderr: up.stderr }).toMatchObject({ code: 0 });
      const lines = up.stdout.trim().split("\n");
      expect(lines.at(-1)).toBe(`KUBECONFIG=${join(stateDir, "kubeconfigs", "admin.kubeconfig")}`);
      expect(up.stdout).toContain(`ALICE_KUBECONFIG=${join(stateDir, "kubeconfigs", "alice.kubeconfig")}`);
      expect(up.stdout).toMatch(/DRAWBRIDGE_KUBECTL=\/.*\/kubectl\n/);
      const state = (await readState(stateDir))!;
      expect(state.ownerPid).toBe(0);
      expect(pidsOf(state).every(alive)).toBe(true);

      const again = cli(["up", "--state-dir", stateDir]);
      expect(again.stderr).toContain("reusing");
      expect(again.stdout).toBe(up.stdout);
      const env = cli(["env", "--state-dir", stateDir]);
      expect(env).toMatchObject({ code: 0, stdout: up.stdout });

      // The kubeconfig works with the matching kubectl.
      const kubectl = /DRAWBRIDGE_KUBECTL=(.*)\n/.exec(up.stdout)![1]!;
      const whoami = spawnSync(kubectl, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], {
        encoding: "utf8",
        env: { ...process.env, KUBECONFIG: join(stateDir, "kubeconfigs", "admin.kubeconfig") },
      });
      expect(whoami.stdout).toBe("admin");

      const down = cli(["down", "--state-dir", stateDir]);
      expect(down.code).toBe(0);
      expect(await gone(pidsOf(state))).toBe(true);
      expect(existsSync(stateDir)).toBe(false);
      const none = cli(["env", "--state-dir", stateDir]);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("no local control plane is running");
    } finally {
      cli(["down", "--state-dir", stateDir]);
      rmSync(base, { recursive: true, force: true });
    }
  });

  test("daemons die with a SIGKILLed owner, and the next run reaps its state", async () => {
    const base = mkdtempSync(join(tmpdir(), "drawbridge-lifecycle-"));
    const binDir = join(testCluster().kubectlPath, "..");
    const stateDir = join(base, "drawbridge-cp-held");
    try {
      const child = spawn(
        node,
        [repoPath("test/support/hold-plane.ts"), stateDir, join(base, "no-crds"), binDir],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const printed = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding("utf8").once("data", resolve);
        child.once("exit", (code) => {
          reject(new Error(`hold-plane exited with ${String(code)}`));
        });
      });
      expect(printed.trim()).toBe(stateDir);
      const state = (await readState(stateDir))!;
      expect(state.ownerPid).toBe(child.pid);
      expect(pidsOf(state).every(alive)).toBe(true);

      child.kill("SIGKILL");
      expect(await gone(pidsOf(state))).toBe(true);
      expect(existsSync(stateDir)).toBe(true);
      expect(await reapStaleControlPlanes(base, "drawbridge-cp-")).toEqual([stateDir]);
      expect(existsSync(stateDir)).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
