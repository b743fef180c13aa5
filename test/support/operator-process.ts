// The one operator child process of the test harnesses: `node bin/drawbridge.js <args>` from the
// repository root, its output captured, a bounded stop (SIGTERM, then SIGKILL) and its exit. The
// flags, environment and kubeconfig stay with each caller: every harness runs the operator its way.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { eventually } from "./poll.ts";

export const REPO_ROOT = join(import.meta.dirname, "..", "..");

export interface OperatorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface OperatorProcessOptions {
  /** Keep at least the last this many characters of output (trimmed to it when twice over); default: all. */
  maxLogChars?: number;
  /** SIGKILL this long after stop()'s SIGTERM; the default is above the operator's 25 s shutdown deadline. */
  stopTimeoutMs?: number;
}

/** `node bin/drawbridge.js ...args` with stdout and stderr piped; `env` defaults to this process's. */
export function operatorChild(args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const argv = ["--disable-warning=ExperimentalWarning", join(REPO_ROOT, "bin", "drawbridge.js"), ...args];
  return spawn(process.execPath, argv, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
}

export function startOperatorProcess(
  args: string[],
  opts: OperatorProcessOptions & { env?: NodeJS.ProcessEnv } = {},
): OperatorProcess {
  return new OperatorProcess(operatorChild(args, opts.env), opts);
}

export class OperatorProcess {
  readonly child: ChildProcess;
  /** Resolves once the process has exited, with its code or the signal that ended it. */
  readonly exited: Promise<OperatorExit>;
  readonly #stopTimeoutMs: number;
  readonly #listeners: ((text: string) => void)[] = [];
  #output = "";

  /** Takes over an already spawned child (e.g. the demo's own spawn) whose stdout and stderr are piped. */
  constructor(child: ChildProcess, opts: OperatorProcessOptions = {}) {
    this.child = child;
    this.#stopTimeoutMs = opts.stopTimeoutMs ?? 30_000;
    const max = opts.maxLogChars;
    const collect = (b: Buffer): void => {
      const text = b.toString();
      for (const listener of this.#listeners) listener(text);
      this.#output += text;
      if (max !== undefined && this.#output.length > 2 * max) this.#output = this.#output.slice(-max);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        resolve({ code, signal });
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything captured from stdout and stderr (the most recent part when a limit is set). */
  logs(): string {
    return this.#output;
  }

  /** Lines of the captured output that contain `text`. */
  lines(text: string): string[] {
    return this.#output.split("\n").filter((l) => l.includes(text));
  }

  /** Called with each chunk of output as it arrives (before any trimming). */
  onOutput(listener: (text: string) => void): void {
    this.#listeners.push(listener);
  }

  /** Wait until the output contains `pattern`; resolves with the match (for a string, the string). */
  async waitForLog(pattern: string | RegExp, timeoutMs = 30_000): Promise<string[]> {
    const find = (): string[] | undefined =>
      typeof pattern === "string"
        ? this.#output.includes(pattern)
          ? [pattern]
          : undefined
        : (pattern.exec(this.#output) ?? undefined);
    try {
      return await eventually(`the operator to log ${String(pattern)}`, find, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}; operator output:\n${this.#output.slice(-4000)}`);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after the stop timeout; resolves with the exit. */
  async stop(): Promise<OperatorExit> {
    if (!this.running) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), this.#stopTimeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<OperatorExit> {
    if (this.running) this.child.kill("SIGKILL");
    return this.exited;
  }
}
