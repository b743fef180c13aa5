// kube-apiserver, kubectl and etcd come from tools/controlplane/build.sh, which builds them from
// the Go module proxy once into a cache outside the repository and then only prints that cache.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Logger } from "./logger.ts";

export const BUILD_SCRIPT = fileURLToPath(new URL("../../tools/controlplane/build.sh", import.meta.url));

/** Builds (first time) or finds the binaries; resolves to the directory that holds them. */
export function ensureBinaries(opts: { logger?: Logger } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [BUILD_SCRIPT], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      for (const line of chunk.split("\n").filter((l) => l.trim() !== "")) opts.logger?.info(line);
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const dir = stdout.trim().split("\n").pop() ?? "";
      if (code === 0 && dir !== "") resolve(dir);
      else reject(new Error(`${BUILD_SCRIPT} failed (exit ${String(code)}):\n${stderr.slice(-4000)}`));
    });
  });
}
