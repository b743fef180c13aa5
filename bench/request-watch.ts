// Follows the AccessRequests of one namespace through a watch and records, per request, when each
// phase was first seen, the approval times the operator wrote (startTime, expiresAt), and each
// write's arrival: every write to an object changes its resourceVersion and the watch delivers each
// change, so counting MODIFIED events counts the operator's writes as the API server saw them.
import { ACCESSREQUEST_PLURAL } from "../src/api/types.ts";
import { crPath } from "./kube.ts";
import type { KubeClient, WatchEvent } from "./kube.ts";

export interface RequestTrack {
  /** phase -> first time (ms since epoch) it was seen */
  phases: Map<string, number>;
  startTime?: number;
  expiresAt?: number;
  reason?: string;
  /** when the watch delivered the creation */
  addedAt?: number;
  /** when the watch first delivered the object carrying a finalizer */
  finalizerAt?: number;
  /** when the watch first delivered the object carrying status.startTime (approval acknowledged) */
  approvedAt?: number;
  /** writes (resourceVersion changes after the creation) up to and including the first Active */
  writesToActive: number;
  /** writes (resourceVersion changes after the creation) seen in all */
  writes: number;
}

export class RequestWatch {
  readonly tracks = new Map<string, RequestTrack>();
  readonly #stop: () => void;

  private constructor(stop: (self: RequestWatch) => () => void) {
    this.#stop = stop(this);
  }

  /** Starts watching from the namespace's current resourceVersion. */
  static async start(kube: KubeClient, namespace: string): Promise<RequestWatch> {
    const path = crPath(namespace, ACCESSREQUEST_PLURAL);
    const list = await kube.call("GET", `${path}?limit=1`);
    const rv = list.metadata.resourceVersion ?? "0";
    return new RequestWatch((self) =>
      kube.watch(path, rv, (e) => {
        self.#onEvent(e);
      }),
    );
  }

  stop(): void {
    this.#stop();
  }

  phaseCount(phase: string): number {
    let n = 0;
    for (const t of this.tracks.values()) if (t.phases.has(phase)) n++;
    return n;
  }

  #onEvent(e: WatchEvent): void {
    const name = e.object.metadata.name;
    if (name === undefined || e.type === "ERROR") return;
    let t = this.tracks.get(name);
    if (t === undefined) {
      t = { phases: new Map(), writesToActive: 0, writes: 0 };
      this.tracks.set(name, t);
    }
    const status = e.object.status ?? {};
    if (e.type === "ADDED") t.addedAt ??= e.at;
    if (e.type === "MODIFIED") {
      t.writes++;
      if (!t.phases.has("Active")) t.writesToActive++;
    }
    const finalizers = e.object.metadata.finalizers;
    if (Array.isArray(finalizers) && finalizers.length > 0) t.finalizerAt ??= e.at;
    if (typeof status.startTime === "string") t.approvedAt ??= e.at;
    const phase = status.phase;
    if (typeof phase === "string" && !t.phases.has(phase)) t.phases.set(phase, e.at);
    if (typeof status.startTime === "string") t.startTime = Date.parse(status.startTime);
    if (typeof status.expiresAt === "string") t.expiresAt = Date.parse(status.expiresAt);
    if (typeof status.reason === "string") t.reason = status.reason;
  }
}
