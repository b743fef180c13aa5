// Locates the pinned Helm binary, building it on first use with tools/helm/build.sh (which caches
// it under ~/.cache/drawbridge/helm/<version>/helm and reuses it afterwards).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export type EnsureHelmOptions = {
  /** Environment for the build script (PATH must reach `go` on a cold cache). */
  env: NodeJS.ProcessEnv;
  /** Where the build script's progress lines go; the binary path is read from its stdout. */
  onProgress?: (chunk: string) => void;
};

/** The build script that ships with this checkout. */
export function buildScriptPath(): string {
  return fileURLToPath(new URL("../../tools/helm/build.sh", import.meta.url));
}

/** Runs the build script (a no-op when cached) and resolves to the absolute path of `helm`. */
export function ensureHelm(options: EnsureHelmOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [buildScriptPath()], {
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      options.onProgress?.(chunk);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const path = stdout.trim().split("\n").pop() ?? "";
      if (code === 0 && path.startsWith("/")) {
        resolve(path);
        return;
      }
      const tail = stderr.trim().split("\n").slice(-20).join("\n");
      reject(new Error(`building helm with ${buildScriptPath()} failed (exit ${String(code)}):\n${tail}`));
    });
  });
}
