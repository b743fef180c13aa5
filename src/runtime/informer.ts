// A list+watch cache of one resource that does not go silent. client-node's own informer stops on
// non-410 errors; this one restarts the watch with backoff on any error, relists on 410 Gone, has a
// watchdog that restarts a watch that has sent nothing (not even a bookmark) for watchdogMs, and a
// periodic full relist that emits synthetic add/update/delete for anything the watch missed.
// Relists stop the watch first and restart it from the list's resourceVersion, so list results and
// watch events never interleave.
import { Watch } from "@kubernetes/client-node";
import type { KubeConfig, KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import { RepeatedError, kubeErrorFields, kubeErrorSummary } from "./kube-errors.ts";
import { ObjectStore } from "./object-store.ts";
import { slim } from "./slim.ts";
import type { SharingTables } from "./slim.ts";
import type { Clock, Timer } from "./clock.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";

/** One page of a list call; pass `limit`/`continue` through to the API for paged reads. */
export type ListFn<T extends KubernetesObject> = (page: {
  limit: number;
  continue: string | undefined;
}) => Promise<KubernetesListObject<T>>;

export type InformerEvent = "add" | "update" | "delete";
export type InformerCallback<T> = (obj: T, old: T | undefined) => void;

export interface InformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Watch path, e.g. /apis/jit.drawbridge.dev/v1alpha1/accessrequests or .../namespaces/x/... */
  path: string;
  listFn: ListFn<T>;
  logger: Logger;
  clock: Clock;
  /** Full relist period; 0 disables. Default 5 min. */
  relistIntervalMs?: number;
  /** Restart a watch silent for this long. Default 2 min (the API server bookmarks about every minute). */
  watchdogMs?: number;
  /** Items per list page. Default 500. */
  pageSize?: number;
  labelSelector?: string;
  /** Short resource name for logs and metrics; defaults to the path's last segment. */
  resource?: string;
  metrics?: Metrics;
  /**
   * Called when a watch connection ends with a network error (not a clean close at the server's
   * timeout, not a 410, not our own abort): the path to the API server broke.
   */
  onBrokenWatch?: () => void;
  /**
   * Watch restart and list retry backoff. Defaults 500 ms doubling to 5 s: after an API-server
   * outage of half a minute a 30 s cap left requests unseen for up to 30 s after it was back, and a
   * failing list or watch every 5 s per resource costs the API server next to nothing.
   */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Cached objects' string values and small parts are replaced by these tables' equal copies (one
   * copy of each namespace, policy name, target id, condition, port list... instead of one per object).
   */
  sharing?: SharingTables;
}

export interface Informer<T extends KubernetesObject> {
  /** Begin list+watch; resolves once the first full list is in the cache (retries until then). */
  start(): Promise<void>;
  /** Stop watching and cancel timers; the cache keeps its last contents. */
  stop(): void;
  list(): T[];
  /** Cluster-scoped objects use namespace undefined. */
  get(namespace: string | undefined, name: string): T | undefined;
  hasSynced(): boolean;
  /** Subscribe; "update" receives (new, old), "delete" receives the last known object. */
  on(event: InformerEvent, cb: InformerCallback<T>): void;
  off(event: InformerEvent, cb: InformerCallback<T>): void;
  /** Time of the last watch event or bookmark (undefined before the first). */
  readonly lastEventAt: Date | undefined;
  /** resourceVersion the next watch starts from. */
  readonly resourceVersion: string | undefined;
  /** True while a watch connection is established. */
  readonly watching: boolean;
  /** Abort the current watch connection (as a network drop would); it restarts by itself. */
  dropWatch(): void;
  /** Relist now (stop watch, list, diff, rewatch); resolves when the cache is refreshed. */
  relist(): Promise<void>;
  /**
   * Take in an object a write of ours returned, before its watch event arrives: it replaces the cached
   * copy (emitting "update") only when it is newer, and the later watch event is then no change.
   */
  observe(obj: T): void;
}

/**
 * "namespace/name", or the name of a cluster-scoped object. Joined, not concatenated: V8 keeps a
 * concatenation as a pair of pieces (64 bytes for a request's key), a join as one flat string (40);
 * every index of the requests holds such a key per request.
 */
export function cacheKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === "" ? name : [namespace, name].join("/");
}

function cacheKeyOf(obj: KubernetesObject): string {
  return cacheKey(obj.metadata?.namespace, obj.metadata?.name ?? "");
}

/** Status code of a failed request or a watch ERROR event, if any. */
function statusOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === "number") return e.statusCode;
  if (typeof e.code === "number") return e.code;
  return undefined;
}

/**
 * True when `a` is known to be older than `b`. resourceVersions are etcd revisions (decimal integers)
 * on every API server this runs against; anything else is treated as not comparable (not older).
 */
export function isOlder(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return a.length === b.length ? a < b : a.length < b.length;
}

/** An error without an HTTP status: the connection failed, not the API server's answer. */
function isNetworkError(err: unknown): boolean {
  return err !== null && err !== undefined && statusOf(err) === undefined;
}

function errName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

export function createInformer<T extends KubernetesObject>(opts: InformerOptions<T>): Informer<T> {
  return new ResilientInformer(opts);
}

type RestartReason = "error" | "gone" | "watchdog" | "relist" | "closed" | "dropped";

class ResilientInformer<T extends KubernetesObject> implements Informer<T> {
  readonly #o: InformerOptions<T>;
  readonly #log: Logger;
  readonly #resource: string;
  readonly #relistMs: number;
  readonly #watchdogMs: number;
  readonly #cache = new ObjectStore<T>();
  readonly #handlers = new Map<InformerEvent, Set<InformerCallback<T>>>();
  readonly #watch: Watch;
  #rv: string | undefined;
  #synced = false;
  #stopped = true;
  /** Incremented for every watch/list cycle; callbacks of older cycles are ignored. */
  #generation = 0;
  #abort: AbortController | undefined;
  #lastEventAt: Date | undefined;
  #lastActivity = 0;
  #failures = 0;
  #retryTimer: Timer | undefined;
  #watchdogTimer: Timer | undefined;
  #relistTimer: Timer | undefined;
  #listing: Promise<void> | undefined;
  /** Ends a list-retry wait early, so stop() never leaves start() hanging. */
  #wakeRetry: (() => void) | undefined;
  /** Set by dropWatch() so the restart is counted as "dropped". */
  #dropped = false;
  /** A list or watch failing the same way on every retry is one warn line, not one per retry. */
  readonly #listFailing = new RepeatedError();
  readonly #watchFailing = new RepeatedError();

  constructor(opts: InformerOptions<T>) {
    this.#o = opts;
    this.#resource = opts.resource ?? opts.path.split("/").filter(Boolean).at(-1) ?? opts.path;
    this.#log = opts.logger.child({ informer: this.#resource });
    this.#relistMs = opts.relistIntervalMs ?? 300_000;
    this.#watchdogMs = opts.watchdogMs ?? 120_000;
    this.#watch = new Watch(opts.kubeConfig);
    // client-node aborts a watch after 30 s without data; our watchdog owns that decision instead.
    (this.#watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = this.#watchdogMs + 30_000;
  }

  get lastEventAt(): Date | undefined {
    return this.#lastEventAt;
  }

  get resourceVersion(): string | undefined {
    return this.#rv;
  }

  get watching(): boolean {
    return this.#abort !== undefined;
  }

  async start(): Promise<void> {
    if (!this.#stopped) return this.#listing ?? Promise.resolve();
    this.#stopped = false;
    this.#armWatchdog();
    await this.relist();
    this.#armRelist();
  }

  stop(): void {
    this.#stopped = true;
    this.#generation++;
    this.#abort?.abort();
    this.#abort = undefined;
    for (const t of [this.#retryTimer, this.#watchdogTimer, this.#relistTimer]) {
      if (t !== undefined) this.#o.clock.clearTimer(t);
    }
    this.#retryTimer = this.#watchdogTimer = this.#relistTimer = undefined;
    this.#wakeRetry?.();
  }

  list(): T[] {
    return this.#cache.list();
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#cache.get(namespace, name);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  on(event: InformerEvent, cb: InformerCallback<T>): void {
    let set = this.#handlers.get(event);
    if (set === undefined) this.#handlers.set(event, (set = new Set()));
    set.add(cb);
  }

  off(event: InformerEvent, cb: InformerCallback<T>): void {
    this.#handlers.get(event)?.delete(cb);
  }

  dropWatch(): void {
    if (this.#abort === undefined) return;
    this.#dropped = true;
    this.#abort.abort();
  }

  relist(): Promise<void> {
    this.#listing ??= this.#relistUntilDone().finally(() => {
      this.#listing = undefined;
    });
    return this.#listing;
  }

  /** A method, not the field, so checks after an await are not narrowed away. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  #emit(event: InformerEvent, obj: T, old: T | undefined): void {
    for (const cb of this.#handlers.get(event) ?? []) {
      try {
        cb(obj, old);
      } catch (err) {
        this.#log.error({ ...kubeErrorFields(err), event }, "informer handler threw");
      }
    }
  }

  #countRestart(reason: RestartReason): void {
    this.#o.metrics?.informerRestarts.inc({ resource: this.#resource, reason });
  }

  /** List (retrying with backoff until it works or stop()), replace the cache, restart the watch. */
  async #relistUntilDone(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      const gen = ++this.#generation;
      this.#abort?.abort();
      this.#abort = undefined;
      try {
        const { items, resourceVersion } = await this.#listAll();
        if (gen !== this.#generation || this.#isStopped()) continue;
        this.#replace(items);
        this.#rv = resourceVersion;
        this.#synced = true;
        this.#failures = 0;
        const failed = this.#listFailing.reset();
        if (failed > 0) this.#log.info({ failures: failed }, "list succeeded after failing");
        this.#startWatch(gen);
        return;
      } catch (err) {
        if (this.#isStopped()) return;
        const delay = this.#nextBackoff();
        this.#logFailure(this.#listFailing, err, delay, "list failed; retrying");
        await new Promise<void>((resolve) => {
          this.#wakeRetry = resolve;
          this.#retryTimer = this.#o.clock.setTimer(resolve, delay);
        });
        this.#wakeRetry = undefined;
      }
    }
  }

  async #listAll(): Promise<{ items: T[]; resourceVersion: string | undefined }> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await this.#o.listFn({ limit: this.#o.pageSize ?? 500, continue: cont });
      // Slimmed page by page: a list of 100,000 objects held whole until its end peaks at several
      // times the cache it becomes (managedFields, unshared strings).
      for (const o of page.items) items.push(this.#listed(o));
      rv = page.metadata?.resourceVersion ?? rv;
      // Typed lists call the ListMeta token `_continue`; CustomObjectsApi returns the raw JSON, where
      // it is `continue`. Missing it would stop after one page and drop every object beyond it.
      const meta: { _continue?: string; continue?: string } | undefined = page.metadata;
      cont = meta?._continue ?? meta?.continue;
    } while (cont !== undefined && cont !== "");
    return { items, resourceVersion: rv };
  }

  /**
   * A listed object as the cache keeps it: the cached copy itself when it is the same version (a
   * relist then allocates nothing for unchanged objects), otherwise the object slimmed.
   */
  #listed(o: T): T {
    const cached = this.#cache.find(o);
    const rv = o.metadata?.resourceVersion;
    if (cached !== undefined && rv !== undefined && cached.metadata?.resourceVersion === rv) return cached;
    return slim(o, this.#o.sharing);
  }

  /** Swap in a fresh list (objects already slimmed by #listed), emitting the differences as events. */
  #replace(items: T[]): void {
    const fresh = new Map(items.map((o) => [cacheKeyOf(o), o]));
    for (const old of this.#cache.list()) {
      if (!fresh.has(cacheKeyOf(old))) {
        this.#cache.delete(old);
        this.#emit("delete", old, old);
      }
    }
    for (const obj of fresh.values()) {
      const old = this.#cache.find(obj);
      // A write of ours observed after the list was taken is newer than the list's copy.
      if (old !== undefined && isOlder(obj.metadata?.resourceVersion, old.metadata?.resourceVersion))
        continue;
      this.#cache.set(obj);
      if (old === undefined) this.#emit("add", obj, undefined);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
        this.#emit("update", obj, old);
    }
  }

  #nextBackoff(): number {
    this.#failures++;
    const min = this.#o.minBackoffMs ?? 500;
    const max = this.#o.maxBackoffMs ?? 5_000;
    const d = Math.min(max, min * 2 ** Math.min(this.#failures - 1, 20));
    return Math.round(d * (0.8 + 0.2 * Math.random()));
  }

  #startWatch(gen: number): void {
    if (this.#stopped || gen !== this.#generation) return;
    const startedAt = this.#o.clock.now().getTime();
    this.#lastActivity = startedAt;
    const params = {
      allowWatchBookmarks: true,
      resourceVersion: this.#rv,
      labelSelector: this.#o.labelSelector,
      // Like client-go: a server-side timeout of 5-10 min so connections are recycled regularly.
      timeoutSeconds: Math.round(300 + Math.random() * 300),
    };
    let gone = false;
    const onEvent = (type: string, obj: T): void => {
      if (gen !== this.#generation) return;
      this.#touch();
      if (type === "ERROR") {
        gone = statusOf(obj) === 410;
        if (!gone) this.#log.warn(kubeErrorFields(obj), "watch error event");
        return;
      }
      this.#apply(type, obj);
    };
    const onDone = (err: unknown): void => {
      if (gen !== this.#generation || this.#stopped) return;
      this.#abort = undefined;
      this.#afterWatch(gen, err, gone || statusOf(err) === 410, startedAt);
    };
    this.#watch.watch(this.#o.path, params, onEvent, onDone).then(
      (ac) => {
        if (gen === this.#generation) this.#abort = ac;
        else ac.abort();
      },
      (err: unknown) => {
        onDone(err);
      },
    );
  }

  #apply(type: string, obj: T): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined) this.#rv = rv;
    if (type === "BOOKMARK") return;
    const old = this.#cache.find(obj);
    if (type === "DELETED") {
      this.#cache.delete(obj);
      this.#emit("delete", obj, old);
    } else if (type === "ADDED" || type === "MODIFIED") {
      this.#store(slim(obj, this.#o.sharing), old);
    }
  }

  observe(obj: T): void {
    const old = this.#cache.find(obj);
    // Only refresh what is cached: a write result must not resurrect an object whose deletion was seen.
    if (old === undefined || !isOlder(old.metadata?.resourceVersion, obj.metadata?.resourceVersion)) return;
    this.#store(slim(obj, this.#o.sharing), old);
  }

  /** Cache obj unless the cached copy is the same version or newer (a write result observed early). */
  #store(obj: T, old: T | undefined): void {
    if (old !== undefined) {
      const had = old.metadata?.resourceVersion;
      const got = obj.metadata?.resourceVersion;
      if ((had !== undefined && had === got) || isOlder(got, had)) return;
    }
    this.#cache.set(obj);
    if (old === undefined) this.#emit("add", obj, undefined);
    else this.#emit("update", obj, old);
  }

  #touch(): void {
    this.#lastEventAt = this.#o.clock.now();
    this.#lastActivity = this.#lastEventAt.getTime();
  }

  /** Decide how to continue after a watch ended: relist on 410, rewatch now if clean, else back off. */
  #afterWatch(gen: number, err: unknown, gone: boolean, startedAt: number): void {
    if (gone) {
      this.#countRestart("gone");
      this.#log.info({ resourceVersion: this.#rv }, "watch expired (410 Gone); relisting");
      void this.relist();
      return;
    }
    const lastedMs = this.#o.clock.now().getTime() - startedAt;
    if ((err === null || err === undefined) && lastedMs >= 1000 && !this.#dropped) {
      // The server ended the watch at timeoutSeconds: resume from the last resourceVersion.
      this.#countRestart("closed");
      this.#failures = 0;
      this.#watchFailing.reset();
      this.#startWatch(gen);
      return;
    }
    const aborted = this.#dropped || errName(err) === "AbortError";
    this.#dropped = false;
    if (!aborted && isNetworkError(err)) this.#o.onBrokenWatch?.();
    this.#countRestart(aborted ? "dropped" : "error");
    const delay = aborted ? 0 : this.#nextBackoff();
    if (aborted || err === null || err === undefined)
      this.#log.warn({ retryInMs: delay, aborted }, "watch ended; restarting");
    else this.#logFailure(this.#watchFailing, err, delay, "watch ended; restarting");
    this.#retryTimer = this.#o.clock.setTimer(() => {
      this.#retryTimer = undefined;
      this.#startWatch(gen);
    }, delay);
  }

  /** warn the first time an error is seen (and when it changes), debug while it repeats. */
  #logFailure(seen: RepeatedError, err: unknown, retryInMs: number, msg: string): void {
    const fresh = seen.isNew(kubeErrorSummary(err));
    const fields = { ...kubeErrorFields(err), retryInMs, failures: seen.failures };
    if (fresh) this.#log.warn(fields, `${msg} (repeats are logged at debug)`);
    else this.#log.debug(fields, msg);
  }

  #armWatchdog(): void {
    const period = Math.max(100, Math.min(this.#watchdogMs / 4, 10_000));
    this.#watchdogTimer = this.#o.clock.setTimer(() => {
      if (this.#stopped) return;
      this.#checkWatchdog();
      this.#armWatchdog();
    }, period);
  }

  #checkWatchdog(): void {
    const silent = this.#o.clock.now().getTime() - this.#lastActivity;
    if (this.#abort === undefined || silent < this.#watchdogMs) return;
    this.#countRestart("watchdog");
    this.#log.warn({ silentMs: silent }, "watch silent too long; restarting it");
    const gen = ++this.#generation;
    this.#abort.abort();
    this.#abort = undefined;
    this.#startWatch(gen);
  }

  #armRelist(): void {
    if (this.#relistMs <= 0 || this.#stopped) return;
    this.#relistTimer = this.#o.clock.setTimer(() => {
      this.#relistTimer = undefined;
      this.#countRestart("relist");
      void this.relist().finally(() => {
        this.#armRelist();
      });
    }, this.#relistMs);
  }
}
