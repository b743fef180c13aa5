// Runs the kubectl built next to the control plane (same version as the server).
import { spawn } from "node:child_process";
import { join } from "node:path";

export type KubectlResult = { code: number; stdout: string; stderr: string };

export type KubectlOptions = { binDir: string; kubeconfig: string; input?: string; timeoutMs?: number };

export function kubectl(args: string[], opts: KubectlOptions): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(opts.binDir, "kubectl"), args, {
      env: { ...process.env, KUBECONFIG: opts.kubeconfig },
      stdio: ["pipe", "pipe", "pipe"],
      timeout: opts.timeoutMs ?? 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code, sig) => {
      resolve({ code: code ?? (sig === null ? 1 : 128), stdout, stderr });
    });
    // kubectl may exit before reading its input (EPIPE); its exit code and stderr say why.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** Like `kubectl`, but a non-zero exit is an error carrying kubectl's stderr. */
export async function kubectlOk(args: string[], opts: KubectlOptions): Promise<string> {
  const result = await kubectl(args, opts);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}
