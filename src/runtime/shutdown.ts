// Graceful shutdown: on SIGTERM/SIGINT run the registered closers in reverse registration order
// (stop taking work before closing what the work uses), each bounded by a shared deadline so a hung
// closer cannot keep a terminating pod past its grace period. A second signal exits at once.

export type Closer = () => Promise<void> | void;

export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ShutdownOptions {
  /** Total time all closers may take. Default 25 s (Kubernetes' default grace period is 30 s). */
  deadlineMs?: number;
  logger?: ShutdownLogger;
  /** Signal source; defaults to `process`. Injected by tests. */
  signals?: {
    on(sig: "SIGTERM" | "SIGINT", fn: () => void): unknown;
    off(sig: "SIGTERM" | "SIGINT", fn: () => void): unknown;
  };
  /** Called on a second signal; defaults to process.exit(130). */
  forceExit?: () => void;
}

export class Shutdown {
  readonly #closers: { name: string; fn: Closer }[] = [];
  readonly #deadlineMs: number;
  readonly #logger: ShutdownLogger | undefined;
  readonly #signals: NonNullable<ShutdownOptions["signals"]>;
  readonly #forceExit: () => void;
  readonly #onSignal: () => void;
  #running: Promise<void> | undefined;
  #signal: string | undefined;
  #resolveDone!: () => void;
  /** Resolves when shutdown has completed (after a signal or an explicit run()). */
  readonly done: Promise<void>;

  constructor(opts: ShutdownOptions = {}) {
    this.#deadlineMs = opts.deadlineMs ?? 25_000;
    this.#logger = opts.logger;
    this.#signals = opts.signals ?? process;
    this.#forceExit =
      opts.forceExit ??
      ((): void => {
        process.exit(130);
      });
    this.done = new Promise<void>((resolve) => {
      this.#resolveDone = resolve;
    });
    this.#onSignal = (): void => {
      if (this.#running !== undefined) {
        this.#logger?.error({}, "second signal: exiting immediately");
        this.#forceExit();
        return;
      }
      void this.run("signal");
    };
  }

  /** Register a closer; closers run in reverse order of registration. */
  register(name: string, fn: Closer): void {
    this.#closers.push({ name, fn });
  }

  /** Start listening for SIGTERM and SIGINT. */
  install(): void {
    this.#signals.on("SIGTERM", this.#onSignal);
    this.#signals.on("SIGINT", this.#onSignal);
  }

  uninstall(): void {
    this.#signals.off("SIGTERM", this.#onSignal);
    this.#signals.off("SIGINT", this.#onSignal);
  }

  /** Why shutdown started ("signal", "leadership lost", ...), or undefined while running. */
  get reason(): string | undefined {
    return this.#signal;
  }

  /** Run every closer once (idempotent); resolves when all finished or the deadline passed. */
  run(reason = "requested"): Promise<void> {
    this.#running ??= this.#runAll(reason);
    return this.#running;
  }

  async #runAll(reason: string): Promise<void> {
    this.#signal = reason;
    this.#logger?.info({ reason }, "shutting down");
    const deadline = Date.now() + this.#deadlineMs;
    // A closer that timed out had the whole remaining budget: the deadline is spent even when the
    // timer fired a millisecond before Date.now() reached it (the two clocks round differently).
    let spent = false;
    for (const { name, fn } of [...this.#closers].reverse()) {
      const left = deadline - Date.now();
      if (spent || left <= 0) {
        this.#logger?.error({ closer: name }, "shutdown deadline passed; skipping closer");
        continue;
      }
      spent = await this.#runOne(name, fn, left);
    }
    this.uninstall();
    this.#logger?.info({ reason }, "shutdown complete");
    this.#resolveDone();
  }

  /** Runs one closer within budgetMs; true when it timed out. */
  async #runOne(name: string, fn: Closer, budgetMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => {
        resolve("timeout");
      }, budgetMs);
    });
    try {
      const r = await Promise.race([Promise.resolve().then(fn), timeout]);
      if (r !== "timeout") return false;
      this.#logger?.error({ closer: name, budgetMs }, "closer timed out");
      return true;
    } catch (err) {
      // The message only: a client error object carries response headers and a stack.
      this.#logger?.error(
        { closer: name, err: err instanceof Error ? err.message : String(err) },
        "closer failed",
      );
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
