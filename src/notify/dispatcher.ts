// Routes request notifications to the webhooks of the request's namespace (JitNotifier objects),
// one WebhookSink per notifier, and schedules ExpiringSoon for open grants. notify() only filters
// and enqueues: reconcilers call it and never wait for a webhook.
import type { JitNotifier } from "../api/types.ts";
import type { NotifyMetrics } from "./metrics.ts";
import { WebhookSink } from "./sink.ts";
import type { Post } from "./sink.ts";
import type { Notification } from "./types.ts";

export interface DispatcherOptions {
  /** The JitNotifiers the operator caches. */
  notifiers(): readonly JitNotifier[];
  /** A Secret's key, decoded; undefined when missing. */
  readSecret(namespace: string, name: string, key: string): Promise<string | undefined>;
  /** ExpiringSoon is sent this long before expiresAt (grants shorter than twice this get none). */
  expiringLeadMs: number;
  capacity: number;
  attemptTimeoutMs: number;
  maxAttempts: number;
  /** How long a Secret's URL is reused before it is read again. */
  urlTtlMs: number;
  metrics?: NotifyMetrics | undefined;
  post?: Post;
  log: { warn(o: object, msg: string): void };
  now(): number;
}

interface SinkEntry {
  sink: WebhookSink;
  key: string;
}

/** Whether `notifier` wants `n`. */
export function wants(notifier: JitNotifier, n: Notification): boolean {
  if (notifier.metadata.namespace !== n.namespace || notifier.metadata.deletionTimestamp !== undefined)
    return false;
  const s = notifier.spec;
  if (s.events !== undefined && !s.events.includes(n.type)) return false;
  return s.policies === undefined || s.policies.includes(n.policy);
}

export class NotificationDispatcher {
  readonly #o: DispatcherOptions;
  /** By notifier uid; replaced when the notifier's generation changes. */
  readonly #sinks = new Map<string, SinkEntry>();
  readonly #expiring = new Map<string, NodeJS.Timeout>();
  readonly #urls = new Map<string, { url: string | undefined; at: number }>();

  constructor(o: DispatcherOptions) {
    this.#o = o;
  }

  /** The RequestNotifier handed to the reconcilers. */
  readonly notify = (n: Notification): void => {
    try {
      this.#route(n);
      this.#schedule(n);
    } catch (err) {
      this.#o.log.warn({ err: err instanceof Error ? err.message : String(err) }, "notification not routed");
    }
  };

  close(): void {
    for (const t of this.#expiring.values()) clearTimeout(t);
    this.#expiring.clear();
    for (const e of this.#sinks.values()) e.sink.close();
    this.#sinks.clear();
  }

  #route(n: Notification): void {
    const live = new Set<string>();
    for (const notifier of this.#o.notifiers()) {
      const uid =
        notifier.metadata.uid ?? `${notifier.metadata.namespace ?? ""}/${notifier.metadata.name ?? ""}`;
      live.add(uid);
      if (!wants(notifier, n)) continue;
      this.#sinkFor(uid, notifier).enqueue(n);
    }
    // Notifiers deleted since: their queues go with them.
    for (const [uid, e] of this.#sinks) {
      if (live.has(uid)) continue;
      e.sink.close();
      this.#sinks.delete(uid);
    }
  }

  #sinkFor(uid: string, notifier: JitNotifier): WebhookSink {
    const o = this.#o;
    const key = String(notifier.metadata.generation ?? 0);
    const have = this.#sinks.get(uid);
    if (have !== undefined && have.key === key) return have.sink;
    have?.sink.close();
    const ns = notifier.metadata.namespace ?? "";
    const ref = notifier.spec.webhookSecretRef;
    const name = `${ns}/${notifier.metadata.name ?? ""}`;
    const sink = new WebhookSink({
      format: notifier.spec.format,
      url: () => this.#url(ns, ref.name, ref.key),
      capacity: o.capacity,
      attemptTimeoutMs: o.attemptTimeoutMs,
      maxAttempts: o.maxAttempts,
      metrics: o.metrics,
      ...(o.post === undefined ? {} : { post: o.post }),
      onDrop: (n, reason, detail) => {
        o.log.warn(
          { notifier: name, request: `${n.namespace}/${n.request}`, type: n.type, reason, detail },
          "notification dropped",
        );
      },
    });
    this.#sinks.set(uid, { sink, key });
    return sink;
  }

  async #url(ns: string, name: string, key: string): Promise<string | undefined> {
    const k = `${ns}/${name}/${key}`;
    const hit = this.#urls.get(k);
    const now = this.#o.now();
    if (hit !== undefined && now - hit.at < this.#o.urlTtlMs) return hit.url;
    const raw = (await this.#o.readSecret(ns, name, key))?.trim();
    // Only http(s): a Secret holding anything else is not a webhook.
    const url = raw !== undefined && /^https?:\/\//i.test(raw) ? raw : undefined;
    this.#urls.set(k, { url, at: now });
    return url;
  }

  /** Opened: ExpiringSoon at expiresAt - lead; any closing notification cancels it. */
  #schedule(n: Notification): void {
    const key = n.uid;
    if (n.type === "Closed" || n.type === "Denied" || n.type === "Rejected") {
      const t = this.#expiring.get(key);
      if (t !== undefined) clearTimeout(t);
      this.#expiring.delete(key);
      return;
    }
    if (n.type !== "Opened" || n.expiresAt === undefined || this.#expiring.has(key)) return;
    const left = Date.parse(n.expiresAt) - this.#o.now();
    const lead = this.#o.expiringLeadMs;
    if (Number.isNaN(left) || left < 2 * lead) return;
    const timer = setTimeout(() => {
      this.#expiring.delete(key);
      const at = new Date(this.#o.now()).toISOString();
      this.notify({ ...n, type: "ExpiringSoon", id: `${n.id}-expiring`, time: at });
    }, left - lead);
    timer.unref();
    this.#expiring.set(key, timer);
  }
}
