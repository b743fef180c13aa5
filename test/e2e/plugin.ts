// The kubectl plugin as users meet it: `kubectl-drawbridge` linked into a directory of its own that
// comes first on PATH, and the real kubectl run as one user (their kubeconfig), so plugin discovery
// and credentials are kubectl's own.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { ROOT } from "./harness.ts";
import type { Stack } from "./harness.ts";

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class PluginDir {
  readonly path = mkdtempSync(join(tmpdir(), "drawbridge-plugin-"));

  constructor() {
    symlinkSync(join(ROOT, "bin", "kubectl-drawbridge.js"), join(this.path, "kubectl-drawbridge"));
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }

  /** `kubectl <args>` as `user`, with this directory first on PATH (and as HOME). */
  kubectl(stack: Stack, user: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
    const path = [
      this.path,
      dirname(process.execPath),
      dirname(stack.cluster.kubectlPath),
      "/usr/bin",
      "/bin",
    ];
    return new Promise((resolve, reject) => {
      const child = spawn(stack.cluster.kubectlPath, args, {
        cwd: ROOT,
        env: {
          PATH: path.join(delimiter),
          HOME: this.path,
          KUBECONFIG: stack.cluster.kubeconfigFor(user),
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        resolve({ code, stdout, stderr });
      });
    });
  }
}
