// Watches NSGs in the emulator by polling its admin endpoint back to back (a few ms per round on
// localhost), and timestamps when each source appears in, and later disappears from, a managed
// Allow rule. The timestamps are taken when the answer arrives, so they err late by at most one
// round trip plus one pause (reported as `resolutionMs`).
import { allowedSources } from "./emulator.ts";
import type { AdminClient } from "./emulator.ts";
import { sleep } from "./stats.ts";

export class NsgWatch {
  readonly #admin: AdminClient;
  readonly #nsgIds: string[];
  readonly #pauseMs: number;
  /** source -> first time seen in any watched NSG */
  readonly appeared = new Map<string, number>();
  /** source -> first time it was no longer seen after having appeared */
  readonly gone = new Map<string, number>();
  #current = new Set<string>();
  #stopped = false;
  #loop: Promise<void> | undefined;
  #rounds = 0;
  #roundMs = 0;
  error: unknown;

  constructor(admin: AdminClient, nsgIds: string[], pauseMs = 5) {
    this.#admin = admin;
    this.#nsgIds = nsgIds;
    this.#pauseMs = pauseMs;
  }

  start(): this {
    this.#loop = this.#run();
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  /** Sources currently open in the watched NSGs (as of the last round). */
  get current(): ReadonlySet<string> {
    return this.#current;
  }

  /** Mean duration of one polling round plus pause: the timestamps' resolution. */
  get resolutionMs(): number {
    return this.#rounds === 0 ? NaN : this.#roundMs / this.#rounds + this.#pauseMs;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const t0 = Date.now();
      try {
        const lists = await Promise.all(this.#nsgIds.map((id) => this.#admin.rules(id)));
        const now = Date.now();
        const seen = new Set<string>();
        for (const rules of lists) for (const s of allowedSources(rules ?? [])) seen.add(s);
        for (const s of seen) if (!this.appeared.has(s)) this.appeared.set(s, now);
        for (const s of this.#current) if (!seen.has(s) && !this.gone.has(s)) this.gone.set(s, now);
        this.#current = seen;
        this.#rounds++;
        this.#roundMs += now - t0;
      } catch (err) {
        this.error = err;
      }
      await sleep(this.#pauseMs);
    }
  }
}
