// The operator's Kubernetes access in memory, for in-process tests of the reconcilers: informers that
// hold objects and emit add/update/delete as a synced watch would, and a KubeWriter that applies its
// writes to them as the API server does (status merge patches bump resourceVersion; a finalizer patch
// from a stale resourceVersion is a 409; a delete of an object with finalizers only marks it, and the
// object goes once its last finalizer does). Faults: a request write held or refused (gate), applied
// with its reply lost and its watch event held (lostReply, deliver), a read refused (readGate).
// No API server, no network.
import { ApiException } from "@kubernetes/client-node";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { ObjectMeta } from "../../src/api/types.ts";
import type { EventInput, Kind, KubeWriter, Written } from "../../src/kube/kube.ts";
import type { Informer, InformerCallback, InformerEvent } from "../../src/runtime/informer.ts";

function keyOf(namespace: string | undefined, name: string | undefined): string {
  return namespace === undefined || namespace === "" ? (name ?? "") : `${namespace}/${name ?? ""}`;
}

export class MemoryInformer implements Informer<KubernetesObject> {
  readonly #objects = new Map<string, KubernetesObject>();
  readonly #subs = new Map<InformerEvent, Set<InformerCallback<KubernetesObject>>>();
  readonly lastEventAt = undefined;
  readonly resourceVersion = undefined;
  readonly watching = true;

  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): void {
    // nothing runs in the background
  }
  hasSynced(): boolean {
    return true;
  }
  dropWatch(): void {
    // no connection to drop
  }
  relist(): Promise<void> {
    return Promise.resolve();
  }

  list(): KubernetesObject[] {
    return [...this.#objects.values()];
  }

  get(namespace: string | undefined, name: string): KubernetesObject | undefined {
    return this.#objects.get(keyOf(namespace, name));
  }

  on(event: InformerEvent, cb: InformerCallback<KubernetesObject>): void {
    let set = this.#subs.get(event);
    if (set === undefined) this.#subs.set(event, (set = new Set()));
    set.add(cb);
  }

  off(event: InformerEvent, cb: InformerCallback<KubernetesObject>): void {
    this.#subs.get(event)?.delete(cb);
  }

  /** Store (add or replace) as a watch event would deliver it. */
  put(obj: KubernetesObject | Stored): void {
    const o = structuredClone(obj) as KubernetesObject;
    const k = keyOf(o.metadata?.namespace, o.metadata?.name);
    const old = this.#objects.get(k);
    this.#objects.set(k, o);
    this.#emit(old === undefined ? "add" : "update", o, old);
  }

  remove(namespace: string | undefined, name: string): void {
    const k = keyOf(namespace, name);
    const old = this.#objects.get(k);
    if (old === undefined) return;
    this.#objects.delete(k);
    this.#emit("delete", old, undefined);
  }

  observe(obj: KubernetesObject): void {
    const cur = this.get(obj.metadata?.namespace, obj.metadata?.name ?? "");
    if (cur !== undefined && Number(cur.metadata?.resourceVersion) >= Number(obj.metadata?.resourceVersion))
      return;
    this.put(obj);
  }

  #emit(event: InformerEvent, obj: KubernetesObject, old: KubernetesObject | undefined): void {
    for (const cb of this.#subs.get(event) ?? []) cb(obj, old);
  }
}

/** RFC 7386 JSON merge patch (null removes a field, objects merge, anything else replaces). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const base =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? (target as Record<string, unknown>)
      : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) if (!(k in patch)) out[k] = v;
  for (const [k, v] of Object.entries(patch)) if (v !== null) out[k] = mergePatch(base[k], v);
  return out;
}

export interface KubeEvent extends EventInput {
  kind: Kind;
  name: string;
}

/** An object as the API server stores it: plain JSON, timestamps as strings (drawbridge's types). */
export interface Stored {
  metadata: ObjectMeta;
  status?: unknown;
}

/** A KubeWriter over two MemoryInformers, with a log of every write ("op Kind ns/name"). */
export class MemoryKube implements KubeWriter {
  readonly policies: MemoryInformer;
  readonly requests: MemoryInformer;
  readonly writes: string[] = [];
  readonly events: KubeEvent[] = [];
  /**
   * Holds a request write until the promise returned settles (a rejection fails the write), as a
   * slow or refusing API server would; undefined: the write goes through at once.
   */
  gate: ((op: "patchStatus" | "setFinalizers", key: string) => Promise<void> | undefined) | undefined;
  /**
   * After a request write applied: the error its client gets instead of the object (a timeout, a
   * reset connection), and the object's watch events held until deliver(), as a watch that lags the
   * API server: the write landed, but neither the writer nor the cache can tell. undefined (or no
   * error): the object is returned.
   */
  lostReply: ((op: "patchStatus" | "setFinalizers", key: string) => Error | undefined) | undefined;
  /** Fails a getObject of a request with the error returned (an API server out of reach). */
  readGate: ((key: string) => Error | undefined) | undefined;
  /** Request reads so far (getObject). */
  reads = 0;
  /** Requests stored but not yet delivered to the informer (watch events held), by key. */
  readonly #undelivered = new Map<string, Stored | undefined>();
  #rv = 100;

  constructor(policies = new MemoryInformer(), requests = new MemoryInformer()) {
    this.policies = policies;
    this.requests = requests;
  }

  /** Create or replace an object as a client would (a fresh resourceVersion). */
  apply<T extends Stored>(kind: Kind, obj: T): T {
    const o = structuredClone(obj);
    o.metadata.resourceVersion = this.#nextRv();
    const key = keyOf(o.metadata.namespace, o.metadata.name);
    if (kind === "AccessRequest" && this.#undelivered.has(key)) this.#undelivered.set(key, o);
    else this.#store(kind).put(o);
    return structuredClone(o);
  }

  /** The stored object (a copy), or undefined once it is gone. */
  read(kind: Kind, key: string): Stored | undefined {
    if (kind === "AccessRequest" && this.#undelivered.has(key)) {
      const held = this.#undelivered.get(key);
      return held === undefined ? undefined : structuredClone(held);
    }
    const i = key.indexOf("/");
    const o = this.#store(kind).get(i < 0 ? undefined : key.slice(0, i), key.slice(i + 1));
    return o === undefined ? undefined : (structuredClone(o) as unknown as Stored);
  }

  /** The watch catches up: a request's held events are delivered to the informer. */
  deliver(key: string): void {
    if (!this.#undelivered.has(key)) return;
    const held = this.#undelivered.get(key);
    this.#undelivered.delete(key);
    const i = key.indexOf("/");
    if (held === undefined) this.requests.remove(key.slice(0, i), key.slice(i + 1));
    else this.requests.put(held);
  }

  /** `kubectl delete`: with finalizers the object is only marked; without, it goes. */
  delete(kind: Kind, key: string, at = new Date(0)): void {
    const o = this.read(kind, key);
    if (o === undefined) return;
    if ((o.metadata.finalizers ?? []).length === 0) {
      this.#remove(kind, o.metadata);
      return;
    }
    o.metadata.deletionTimestamp ??= at.toISOString();
    this.apply(kind, o);
  }

  patchStatus(kind: Kind, meta: ObjectMeta, status: object): Promise<Written> {
    this.writes.push(`patchStatus ${kind} ${keyOf(meta.namespace, meta.name)}`);
    const held = this.gate?.("patchStatus", keyOf(meta.namespace, meta.name));
    if (held !== undefined) return held.then(() => this.#patchStatus(kind, meta, status));
    return this.#patchStatus(kind, meta, status);
  }

  /** Composed at the call, before any gate: a gated write is one the API server holds, already sent. */
  patchStatusFrom(kind: Kind, meta: ObjectMeta, compose: () => object): Promise<Written> {
    return this.patchStatus(kind, meta, compose());
  }

  #patchStatus(kind: Kind, meta: ObjectMeta, status: object): Promise<Written> {
    return this.#current(kind, meta).then((cur) => {
      const next: Stored = { ...cur, status: mergePatch(cur.status, status) };
      const lost = this.#loseReply(kind, "patchStatus", meta);
      const written = this.apply(kind, next) as unknown as Written;
      if (lost !== undefined) throw lost;
      return written;
    });
  }

  /** The reply of this write is lost: from now on the object's watch events are held. */
  #loseReply(kind: Kind, op: "patchStatus" | "setFinalizers", meta: ObjectMeta): Error | undefined {
    if (kind !== "AccessRequest") return undefined;
    const key = keyOf(meta.namespace, meta.name);
    const lost = this.lostReply?.(op, key);
    if (lost !== undefined && !this.#undelivered.has(key)) this.#undelivered.set(key, this.read(kind, key));
    return lost;
  }

  setFinalizers(kind: Kind, meta: ObjectMeta, finalizers: string[]): Promise<Written> {
    this.writes.push(`setFinalizers ${kind} ${keyOf(meta.namespace, meta.name)} [${finalizers.join(",")}]`);
    const held = this.gate?.("setFinalizers", keyOf(meta.namespace, meta.name));
    if (held !== undefined) return held.then(() => this.#setFinalizers(kind, meta, finalizers));
    return this.#setFinalizers(kind, meta, finalizers);
  }

  #setFinalizers(kind: Kind, meta: ObjectMeta, finalizers: string[]): Promise<Written> {
    return this.#current(kind, meta).then((cur) => {
      if (meta.resourceVersion !== undefined && meta.resourceVersion !== cur.metadata.resourceVersion) {
        throw new ApiException(409, "Conflict", { reason: "Conflict" }, {});
      }
      const next: Stored = { ...cur, metadata: { ...cur.metadata, finalizers } };
      const lost = this.#loseReply(kind, "setFinalizers", meta);
      if (finalizers.length === 0 && next.metadata.deletionTimestamp !== undefined) {
        this.#remove(kind, next.metadata);
        if (lost !== undefined) throw lost;
        return next as unknown as Written;
      }
      const written = this.apply(kind, next) as unknown as Written;
      if (lost !== undefined) throw lost;
      return written;
    });
  }

  deleteObject(kind: Kind, meta: ObjectMeta): Promise<void> {
    this.writes.push(`deleteObject ${kind} ${keyOf(meta.namespace, meta.name)}`);
    this.delete(kind, keyOf(meta.namespace, meta.name));
    return Promise.resolve();
  }

  getObject(kind: Kind, meta: ObjectMeta): Promise<Written | undefined> {
    const key = keyOf(meta.namespace, meta.name);
    if (kind === "AccessRequest") {
      this.reads++;
      const refused = this.readGate?.(key);
      if (refused !== undefined) return Promise.reject(refused);
    }
    return Promise.resolve(this.read(kind, key) as unknown as Written | undefined);
  }

  event(kind: Kind, meta: ObjectMeta, e: EventInput): Promise<void> {
    this.events.push({ kind, name: keyOf(meta.namespace, meta.name), ...e });
    return Promise.resolve();
  }

  #current(kind: Kind, meta: ObjectMeta): Promise<Stored> {
    const cur = this.read(kind, keyOf(meta.namespace, meta.name));
    if (cur === undefined)
      return Promise.reject(new ApiException(404, "NotFound", { reason: "NotFound" }, {}));
    return Promise.resolve(cur);
  }

  /** The object goes; a request whose watch events are held goes from the informer on deliver(). */
  #remove(kind: Kind, meta: ObjectMeta): void {
    const key = keyOf(meta.namespace, meta.name);
    if (kind === "AccessRequest" && this.#undelivered.has(key)) this.#undelivered.set(key, undefined);
    else this.#store(kind).remove(meta.namespace, meta.name ?? "");
  }

  #store(kind: Kind): MemoryInformer {
    return kind === "JitPolicy" ? this.policies : this.requests;
  }

  #nextRv(): string {
    return String(++this.#rv);
  }
}
