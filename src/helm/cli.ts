// `drawbridge helm <args>`: runs the Helm pinned in tools/helm (built from the Go module proxy on
// first use) with the caller's arguments, stdio passed through, and returns Helm's exit code.
import { spawn } from "node:child_process";
import { ensureHelm } from "./build.ts";

function runInherited(binary: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      // A signal-terminated helm exits like a shell reports it: 128 + signal number.
      resolve(code ?? (signal === null ? 1 : 128 + (signalNumber(signal) ?? 0)));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal];
}

export async function run(args: string[]): Promise<number> {
  let binary: string;
  try {
    binary = await ensureHelm({
      env: process.env,
      onProgress: (chunk) => process.stderr.write(chunk),
    });
  } catch (error) {
    process.stderr.write(`drawbridge helm: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return runInherited(binary, args);
}
