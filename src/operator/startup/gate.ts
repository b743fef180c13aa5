// The bounded wait of start-up: prerequisites first (checks.ts), then the informers' first
// lists, all within --startup-timeout. While something is missing, /readyz says what (the same text
// as the one log line, repeated only when it changes), and the check is repeated so a fix made
// meanwhile (the namespace created, the CRDs applied) lets start-up go on. Past the deadline the
// operator exits with EXIT_STARTUP_FAILED rather than waiting forever doing nothing.
import { kubeErrorSummary } from "../../runtime/kube-errors.ts";
import { describeProblems } from "./checks.ts";
import type { StartupProblem } from "./checks.ts";
import type { Clock, Timer } from "../../runtime/clock.ts";
import { formatGoDuration } from "../../runtime/duration.ts";
import type { Logger } from "../../runtime/logger.ts";

/** Exit code of `drawbridge run` when start-up did not complete within --startup-timeout. */
export const EXIT_STARTUP_FAILED = 3;
/** Shutdown reason of that exit. */
export const STARTUP_FAILED = "start-up failed";

export type StartupOutcome = "ok" | "timeout" | "stopped";

export interface StartupGateOptions {
  /** The prerequisite check (checkStartup bound to the operator's KubeConfig and Config). */
  check(): Promise<StartupProblem[]>;
  clock: Clock;
  log: Logger;
  /** Config.startupTimeoutMs; 0 waits without limit. */
  timeoutMs: number;
  /** Pause between checks. Default 5 s. */
  retryMs?: number;
}

export interface StartupPhases {
  /** Start the informers; resolves once every one has its first list. */
  startInformers(): Promise<void>;
  /** Resources whose first list has not completed yet. */
  unsynced(): string[];
}

export class StartupGate {
  readonly #o: StartupGateOptions;
  readonly #deadline: number | undefined;
  #status: { ok: boolean; reason: string } = { ok: false, reason: "start-up checks running" };
  #logged: string | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #timer: Timer | undefined;

  constructor(opts: StartupGateOptions) {
    this.#o = opts;
    this.#deadline = opts.timeoutMs > 0 ? this.#now() + opts.timeoutMs : undefined;
  }

  /** For /readyz: not ok, with what start-up waits for, until run() resolved "ok". */
  readiness(): { ok: boolean; reason: string } {
    return this.#status;
  }

  /** Stop waiting (shutdown); run() resolves "stopped". */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
    this.#wake?.();
  }

  /** Wait for the prerequisites, then for the first lists; "timeout" once past the deadline. */
  async run(phases: StartupPhases): Promise<StartupOutcome> {
    for (;;) {
      const problems = await this.#check();
      if (this.#isStopped()) return "stopped";
      if (problems.length === 0) break;
      this.#block(problems);
      if (!(await this.#pause())) return this.#isStopped() ? "stopped" : this.#timedOut();
    }
    if (this.#logged !== undefined) this.#o.log.info({}, "start-up prerequisites are in place now");
    this.#logged = undefined;
    this.#status = { ok: false, reason: "caches not synced" };
    const sync = { done: false };
    const started = phases.startInformers().then(
      () => {
        sync.done = true;
      },
      () => undefined,
    );
    for (;;) {
      const inTime = await this.#pause(started);
      if (this.#isStopped()) return "stopped";
      if (sync.done) break;
      // The first lists are slow to come: ask again what is missing (a CRD deleted meanwhile, ...).
      const problems = await this.#check();
      if (this.#isStopped()) return "stopped";
      if (problems.length > 0) this.#block(problems);
      else {
        this.#status = {
          ok: false,
          reason: `caches not synced: waiting for the first list of ${phases.unsynced().join(", ")}`,
        };
      }
      if (!inTime) return this.#timedOut();
    }
    this.#status = { ok: true, reason: "started" };
    return "ok";
  }

  async #check(): Promise<StartupProblem[]> {
    try {
      return await this.#o.check();
    } catch (err) {
      const e = kubeErrorSummary(err);
      return [
        { kind: "unreachable", what: `the start-up check failed (${e.message})`, fix: "see the error" },
      ];
    }
  }

  /** One error line per distinct set of problems; /readyz carries the same text. */
  #block(problems: StartupProblem[]): void {
    const text = describeProblems(problems);
    this.#status = { ok: false, reason: `start-up blocked: ${text}` };
    if (text === this.#logged) return;
    this.#logged = text;
    const limit =
      this.#o.timeoutMs > 0
        ? `exits with code ${String(EXIT_STARTUP_FAILED)} after --startup-timeout=${formatGoDuration(this.#o.timeoutMs)}`
        : "waits (--startup-timeout=0s)";
    this.#o.log.error(
      { problems: problems.map((p) => p.kind), startupTimeoutMs: this.#o.timeoutMs },
      `start-up blocked: ${text}; checking again every ${formatGoDuration(this.#retryMs())}, ${limit}`,
    );
  }

  #timedOut(): StartupOutcome {
    this.#o.log.error(
      { startupTimeoutMs: this.#o.timeoutMs, exitCode: EXIT_STARTUP_FAILED },
      `start-up did not complete within --startup-timeout=${formatGoDuration(this.#o.timeoutMs)} ` +
        `(${this.#status.reason}); exiting with code ${String(EXIT_STARTUP_FAILED)}`,
    );
    return "timeout";
  }

  #retryMs(): number {
    return this.#o.retryMs ?? 5_000;
  }

  /** Sleep one retry period (or until `until` settles); false when the deadline has passed. */
  async #pause(until?: Promise<unknown>): Promise<boolean> {
    const left = this.#deadline === undefined ? Infinity : this.#deadline - this.#now();
    if (left > 0 && !this.#stopped) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = this.#o.clock.setTimer(resolve, Math.min(this.#retryMs(), left));
        void until?.then(
          () => {
            resolve();
          },
          () => {
            resolve();
          },
        );
      });
      if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
      this.#timer = undefined;
      this.#wake = undefined;
    }
    return this.#deadline === undefined || this.#now() < this.#deadline;
  }

  /** A method, not the field, so checks after an await are not narrowed away. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  #now(): number {
    return this.#o.clock.now().getTime();
  }
}
