// Child processes of the benchmark (emulator, operator). Each is tied to this process with
// `setpriv --pdeathsig` when available, so even a SIGKILLed benchmark leaves nothing running, and
// every child is registered with a Reaper that stops it on normal exit, failure and SIGINT/SIGTERM.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";

export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Keeps the last `max` characters a child wrote (for failure reports), and reacts to lines. */
export class OutputTail {
  #text = "";
  readonly #max: number;
  readonly #listeners: ((line: string) => void)[] = [];
  #partial = "";

  constructor(max = 200_000) {
    this.#max = max;
  }

  push(chunk: Buffer): void {
    const s = chunk.toString();
    this.#text += s;
    if (this.#text.length > this.#max) this.#text = this.#text.slice(-this.#max / 2);
    if (this.#listeners.length === 0) return;
    const lines = (this.#partial + s).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) for (const l of this.#listeners) l(line);
  }

  onLine(fn: (line: string) => void): void {
    this.#listeners.push(fn);
  }

  text(): string {
    return this.#text;
  }
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  output: OutputTail;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

let setprivChecked: boolean | undefined;
function hasSetpriv(): boolean {
  setprivChecked ??= spawnSync("setpriv", ["--version"], { stdio: "ignore" }).status === 0;
  return setprivChecked;
}

/** Starts `node <args>` in the repository root with the Node running the benchmark (`env` added to ours). */
export function spawnNode(name: string, args: string[], env: Readonly<Record<string, string>> = {}): Child {
  const nodeArgs = ["--disable-warning=ExperimentalWarning", ...args];
  const [cmd, argv] = hasSetpriv()
    ? ["setpriv", ["--pdeathsig", "TERM", "--", process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const proc = spawn(cmd, argv, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const output = new OutputTail();
  // BENCH_LOG_DIR=DIR: every process's whole output also goes to DIR/<name>-<pid>.log (diagnosis).
  const logDir = process.env.BENCH_LOG_DIR;
  const file =
    logDir === undefined || logDir === "" || proc.pid === undefined
      ? undefined
      : createWriteStream(join(logDir, `${name}-${String(proc.pid)}.log`));
  proc.stdout.on("data", (b: Buffer) => {
    output.push(b);
    file?.write(b);
  });
  proc.stderr.on("data", (b: Buffer) => {
    output.push(b);
    file?.write(b);
  });
  proc.once("exit", () => file?.end());
  const exited = new Promise<number | null>((resolve) => {
    proc.once("exit", (code) => {
      resolve(code);
    });
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${process.execPath}`);
  const child: Child = {
    name,
    proc,
    pid: proc.pid,
    output,
    exited,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return child;
}

/** Resolves with the first line matching `re` (its match), rejects when the child exits or on timeout. */
export function waitForLine(child: Child, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${child.name}: no line matching ${re} within ${timeoutMs} ms\n${tail(child)}`));
    }, timeoutMs);
    child.output.onLine((line) => {
      const m = re.exec(line);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    void child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${child.name} exited (${String(code)}) before ready\n${tail(child)}`));
    });
  });
}

export function tail(child: Child, chars = 4000): string {
  return child.output.text().slice(-chars);
}

/** Stops what the benchmark started, in reverse order, exactly once; also on SIGINT/SIGTERM. */
export class Reaper {
  readonly #stops: { name: string; stop: () => Promise<void> }[] = [];
  #installed = false;

  add(name: string, stop: () => Promise<void>): void {
    this.#stops.push({ name, stop });
    this.#install();
  }

  /** Stop one registered item now (and forget it). */
  async release(name: string): Promise<void> {
    const i = this.#stops.findIndex((s) => s.name === name);
    if (i < 0) return;
    const [item] = this.#stops.splice(i, 1);
    await item?.stop();
  }

  async stopAll(): Promise<void> {
    while (this.#stops.length > 0) {
      const item = this.#stops.pop();
      try {
        await item?.stop();
      } catch (err) {
        process.stderr.write(`bench: stopping ${item?.name ?? "?"} failed: ${String(err)}\n`);
      }
    }
  }

  #install(): void {
    if (this.#installed) return;
    this.#installed = true;
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      process.once(sig, () => {
        process.stderr.write(`bench: ${sig}, stopping children\n`);
        void this.stopAll().finally(() => process.exit(130));
      });
    }
  }
}
