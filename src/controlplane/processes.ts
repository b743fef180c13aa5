// Starting and stopping the control plane's daemons. A daemon either dies with the Node process
// that started it (tests: `setpriv --pdeathsig KILL`, so even a SIGKILLed Jest leaves nothing
// behind) or is detached into its own session to outlive it (`drawbridge cluster up`).
import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export type DaemonSpec = { bin: string; args: string[]; logFile: string; detached: boolean };

function hasSetpriv(): boolean {
  return spawnSync("setpriv", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Starts `spec.bin` with output appended to `spec.logFile`; resolves to its pid once spawned. */
export function spawnDaemon(spec: DaemonSpec): Promise<number> {
  const fd = openSync(spec.logFile, "a");
  const tieToParent = !spec.detached && hasSetpriv();
  const [command, args] = tieToParent
    ? ["setpriv", ["--pdeathsig", "KILL", "--", spec.bin, ...spec.args]]
    : [spec.bin, spec.args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", fd, fd], detached: spec.detached });
    child.once("error", (error) => {
      closeSync(fd);
      reject(new Error(`cannot start ${spec.bin}: ${error.message}`, { cause: error }));
    });
    child.once("spawn", () => {
      closeSync(fd);
      child.unref();
      if (child.pid === undefined) reject(new Error(`cannot start ${spec.bin}: no pid`));
      else resolve(child.pid);
    });
  });
}

function procStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
}

/** True while `pid` is a live (not zombie) process, and, when `bin` is given, runs that binary. */
export function isRunning(pid: number, bin?: string): boolean {
  const stat = procStat(pid);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  if (state === "Z" || state === "X") return false;
  if (bin === undefined) return true;
  try {
    // The pid could have been reused by an unrelated process: only touch ours. The command line
    // reads empty while the process is in execve (setpriv becoming the daemon) and for kernel
    // threads, which ignore signals anyway: count that as ours.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline === "" || cmdline.split("\0").includes(bin);
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopDaemon(pid: number, bin: string, graceMs = 10_000): Promise<void> {
  if (!isRunning(pid, bin)) return;
  signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isRunning(pid) && Date.now() < deadline) await sleep(50);
  if (isRunning(pid)) {
    signal(pid, "SIGKILL");
    while (isRunning(pid)) await sleep(20);
  }
}

/** For signal handlers, where nothing asynchronous runs any more. */
export function killDaemonNow(pid: number, bin: string): void {
  if (isRunning(pid, bin)) signal(pid, "SIGKILL");
}

/** The last lines of a daemon's log, to explain why it did not come up. */
export function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
