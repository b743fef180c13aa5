// One webhook's delivery: a bounded in-memory queue drained by a single worker, so notifications
// arrive in the order they were made. Each post has its own timeout; failures are retried with
// exponential backoff and jitter. enqueue never waits: a full queue drops the newest notification
// (counted), so a dead or hanging webhook costs memory up to the bound and nothing else.
import type { NotifierFormat } from "../api/types.ts";
import { DEFAULT_BACKOFF, backoffMs, retryableStatus } from "./backoff.ts";
import type { BackoffOptions } from "./backoff.ts";
import { bodyFor } from "./bodies.ts";
import type { NotifyMetrics } from "./metrics.ts";
import type { Notification } from "./types.ts";

export type Post = (
  url: string,
  init: { method: "POST"; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ status: number }>;

export interface SinkOptions {
  format: NotifierFormat;
  /** The webhook URL, read when a post is made (undefined: not available now). */
  url(): Promise<string | undefined>;
  capacity: number;
  attemptTimeoutMs: number;
  maxAttempts: number;
  backoff?: BackoffOptions;
  random?: () => number;
  post?: Post;
  metrics?: NotifyMetrics | undefined;
  /** Called once per notification given up (logging). */
  onDrop?(n: Notification, reason: string, detail: string): void;
}

const defaultPost: Post = async (url, init) => {
  const res = await fetch(url, init);
  // Drain the body so the connection is released.
  await res.arrayBuffer().catch(() => undefined);
  return { status: res.status };
};

export class WebhookSink {
  readonly #o: SinkOptions;
  readonly #queue: Notification[] = [];
  #draining = false;
  #closed = false;
  readonly #sleeping = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(o: SinkOptions) {
    this.#o = o;
  }

  /** Queue `n` for delivery; false when the queue is full or the sink closed (n is dropped). */
  enqueue(n: Notification): boolean {
    if (this.#closed || this.#queue.length >= this.#o.capacity) {
      this.#drop(n, "QueueFull", `the queue holds ${this.#o.capacity} notifications`);
      return false;
    }
    this.#queue.push(n);
    if (!this.#draining) void this.#drain();
    return true;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Stop: what is queued is dropped, a sleeping retry wakes and gives up. */
  close(): void {
    this.#closed = true;
    for (const s of this.#sleeping) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.#sleeping.clear();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      for (let n = this.#queue[0]; n !== undefined && !this.#closed; n = this.#queue[0]) {
        await this.#deliver(n);
        this.#queue.shift();
      }
    } finally {
      this.#draining = false;
    }
  }

  async #deliver(n: Notification): Promise<void> {
    const o = this.#o;
    const { contentType, body } = bodyFor(o.format, n);
    let last = "";
    for (let attempt = 1; attempt <= o.maxAttempts && !this.#closed; attempt++) {
      if (attempt > 1) await this.#sleep(backoffMs(attempt - 1, o.backoff ?? DEFAULT_BACKOFF, o.random));
      const r = await this.#attempt(contentType, body);
      if (r.ok) return;
      last = r.detail;
      if (!r.retry) break;
    }
    this.#drop(n, this.#closed ? "Closed" : "AttemptsExhausted", last);
  }

  /** One post with its own timeout; counted as sent or failed. */
  async #attempt(
    contentType: string,
    body: string,
  ): Promise<{ ok: boolean; retry: boolean; detail: string }> {
    const o = this.#o;
    const url = await o.url().catch(() => undefined);
    if (url === undefined) {
      return { ok: false, retry: true, detail: "the webhook URL could not be read from its Secret" };
    }
    try {
      const res = await (o.post ?? defaultPost)(url, {
        method: "POST",
        headers: { "content-type": contentType },
        body,
        signal: AbortSignal.timeout(o.attemptTimeoutMs),
      });
      if (res.status >= 200 && res.status < 300) {
        o.metrics?.sent.inc({ format: o.format });
        return { ok: true, retry: false, detail: "" };
      }
      o.metrics?.failed.inc({ format: o.format });
      return { ok: false, retry: retryableStatus(res.status), detail: `HTTP ${res.status}` };
    } catch (err) {
      o.metrics?.failed.inc({ format: o.format });
      return {
        ok: false,
        retry: true,
        detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      };
    }
  }

  #drop(n: Notification, reason: string, detail: string): void {
    this.#o.metrics?.dropped.inc({ format: this.#o.format, reason });
    this.#o.onDrop?.(n, reason, detail);
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#sleeping.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      entry.timer.unref();
      this.#sleeping.add(entry);
    });
  }
}
