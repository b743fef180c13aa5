// Kubernetes Events written in the background, as client-go's event broadcaster does: a reconcile (and
// the approval or revocation it carries) never waits for an Event write. Events are informational,
// so a write that fails is logged and dropped, and a backlog beyond `maxQueued` is dropped and counted
// rather than held in memory without bound. With `yieldTo`, Events also wait while the operator's own
// writes are running: in a burst they are as many as the status writes, and every one the API server
// takes meanwhile delays an approval. Each keeps the time it was recorded.
import { kubeErrorFields } from "../runtime/kube-errors.ts";
import type { ObjectMeta } from "../api/types.ts";
import type { EventInput, Kind, KubeWriter } from "./kube.ts";
import type { Logger } from "../runtime/logger.ts";

/** An Event a decision asks for: the reconciler hands it to the EventRecorder. */
export interface RecordedEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface EventRecorderOptions {
  kube: Pick<KubeWriter, "event">;
  log: Logger;
  /** Event writes in flight at once. Default 4. */
  concurrency?: number;
  /** Events waiting beyond this are dropped (and counted). Default 1,000. */
  maxQueued?: number;
  /** Writes that go first: an Event is sent only while none of them runs or waits. */
  yieldTo?: { whenIdle(): Promise<void> };
  /** The time an Event is recorded at. Default: the wall clock. */
  now?: () => Date;
}

interface Pending {
  kind: Kind;
  meta: ObjectMeta;
  event: EventInput;
}

export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #queue: Pending[] = [];
  #inFlight = 0;
  #dropped = 0;
  #idle: (() => void)[] = [];

  constructor(o: EventRecorderOptions) {
    this.#o = o;
  }

  /** Events dropped because the backlog was full. */
  get dropped(): number {
    return this.#dropped;
  }

  record(kind: Kind, meta: ObjectMeta, event: EventInput): void {
    if (this.#queue.length >= (this.#o.maxQueued ?? 1000)) {
      this.#dropped++;
      // One line for the first drop and then every 1,000th: a full backlog must not flood the log.
      if (this.#dropped % 1000 === 1)
        this.#o.log.warn(
          { reason: event.reason, object: meta.name, dropped: this.#dropped },
          "event backlog full; event dropped",
        );
      return;
    }
    this.#queue.push({ kind, meta, event: { ...event, at: event.at ?? this.#o.now?.() ?? new Date() } });
    this.#pump();
  }

  /** Resolves once every recorded Event has been written or has failed. */
  flush(): Promise<void> {
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#inFlight < (this.#o.concurrency ?? 4)) {
      const next = this.#queue.shift();
      if (next === undefined) break;
      this.#inFlight++;
      void this.#send(next).finally(() => {
        this.#inFlight--;
        this.#pump();
        if (this.#inFlight === 0 && this.#queue.length === 0) for (const r of this.#idle.splice(0)) r();
      });
    }
  }

  async #send(p: Pending): Promise<void> {
    try {
      if (this.#o.yieldTo !== undefined) await this.#o.yieldTo.whenIdle();
      await this.#o.kube.event(p.kind, p.meta, p.event);
    } catch (err) {
      this.#o.log.warn(
        {
          ...kubeErrorFields(err),
          eventReason: p.event.reason,
          object: p.meta.name,
        },
        "could not record event",
      );
    }
  }
}
