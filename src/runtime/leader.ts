// Lease-based leader election (coordination.k8s.io/v1), so two replicas never reconcile at once:
// one leads, the other waits and takes over when the Lease lapses. Semantics follow client-go:
// acquire when the Lease is free or expired, renew every retryPeriod, and give up leadership if a
// renewal has not succeeded within renewDeadline (the operator then exits and restarts cleanly,
// rather than risk acting alongside a new leader). Every write is guarded by resourceVersion, so
// a 409 means another candidate won. On stop() the Lease is released so a successor starts at once.
import { RepeatedError, kubeErrorFields, kubeErrorSummary } from "./kube-errors.ts";
import type { Clock } from "./clock.ts";
import { InterruptibleSleep } from "./interruptible-sleep.ts";
import { LeaseConflictError } from "./lease-client.ts";
import type { LeaseClient, LeaseRecord } from "./lease-client.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";

export interface LeaderElectorOptions {
  client: LeaseClient;
  /** Lease name, for metrics and logs. */
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** Random source for retry jitter; inject for deterministic tests. */
  random?: () => number;
}

export interface LeaderCallbacks {
  /** Called once on becoming leader; start controllers here. Errors are logged. */
  onStartedLeading: () => void | Promise<void>;
  /** Called once when leadership ends: lost (renewal failed) or given up through stop(). */
  onStoppedLeading: (reason: "lost" | "stopped") => void;
  /** Called whenever the observed holder changes (undefined when the Lease is free). */
  onNewLeader?: (identity: string | undefined) => void;
}

export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #wait: InterruptibleSleep;
  #leading = false;
  #observed: LeaseRecord | undefined;
  #observedAt = 0;
  #leader: string | undefined;
  #running: Promise<void> | undefined;
  /** So a Lease that keeps failing the same way (a missing namespace, a 403) is one warn line, not one per retry. */
  readonly #failing = new RepeatedError();

  constructor(opts: LeaderElectorOptions) {
    this.#o = opts;
    this.#random = opts.random ?? Math.random;
    this.#wait = new InterruptibleSleep(opts.clock);
    this.#log = opts.logger.child({ lease: opts.name, identity: opts.identity });
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** Holder of the Lease as last observed. */
  get leader(): string | undefined {
    return this.#leader;
  }

  /** Campaign, lead, and resolve when leadership ends (lost or stop()). Call once. */
  run(cb: LeaderCallbacks): Promise<void> {
    if (this.#running !== undefined) throw new Error("LeaderElector.run called twice");
    this.#running = this.#run(cb);
    return this.#running;
  }

  /** Stop campaigning; if leading, release the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#wait.stop();
    await this.#running;
  }

  async #run(cb: LeaderCallbacks): Promise<void> {
    this.#o.metrics?.setLeader(this.#o.name, false);
    while (!this.#isStopped() && !(await this.#tryAcquireOrRenew(cb))) {
      await this.#wait.sleep(this.#o.retryPeriodMs * (1 + 0.2 * this.#random()));
    }
    if (this.#isStopped()) return;
    this.#leading = true;
    this.#o.metrics?.setLeader(this.#o.name, true);
    this.#log.info({}, "became leader");
    Promise.resolve()
      .then(cb.onStartedLeading)
      .catch((err: unknown) => {
        this.#log.error(kubeErrorFields(err), "onStartedLeading failed");
      });
    const reason = await this.#renewLoop(cb);
    this.#leading = false;
    this.#o.metrics?.setLeader(this.#o.name, false);
    if (reason === "stopped") await this.#release();
    else
      this.#log.error({ renewDeadlineMs: this.#o.renewDeadlineMs }, "lost leadership: could not renew lease");
    try {
      cb.onStoppedLeading(reason);
    } catch (err) {
      this.#log.error(kubeErrorFields(err), "onStoppedLeading failed");
    }
  }

  async #renewLoop(cb: LeaderCallbacks): Promise<"lost" | "stopped"> {
    let lastRenew = this.#nowMs();
    let sent = lastRenew;
    for (;;) {
      // A retry period from when the last attempt was sent: a slow answer does not push the next
      // attempt towards the deadline as well.
      await this.#wait.sleep(Math.max(0, sent + this.#o.retryPeriodMs - this.#nowMs()));
      if (this.#isStopped()) return "stopped";
      sent = this.#nowMs();
      const left = lastRenew + this.#o.renewDeadlineMs - sent;
      // A hung call is a failed renewal (#tryAcquireOrRenew itself never rejects).
      const ok = left > 0 && (await this.#wait.within(this.#tryAcquireOrRenew(cb), left).catch(() => false));
      if (this.#isStopped()) return "stopped";
      // Held from when the renewal was sent, as the renewTime it wrote tells everyone else: a slow
      // answer must not stretch our deadline past theirs.
      if (ok) lastRenew = sent;
      else if (this.#nowMs() - lastRenew >= this.#o.renewDeadlineMs) return "lost";
    }
  }

  /** One attempt: create, take over an expired/free Lease, or renew our own. True when we hold it. */
  async #tryAcquireOrRenew(cb: LeaderCallbacks): Promise<boolean> {
    const now = this.#o.clock.now();
    const seconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    try {
      const current = await this.#o.client.get();
      if (current === undefined) {
        const fresh = { holderIdentity: this.#o.identity, leaseDurationSeconds: seconds, acquireTime: now };
        this.#observe(await this.#o.client.create({ ...fresh, renewTime: now, leaseTransitions: 0 }), cb);
        this.#recovered();
        return true;
      }
      this.#observe(current, cb);
      const mine = current.holderIdentity === this.#o.identity;
      if (!mine && current.holderIdentity !== undefined && !this.#expired(current, now.getTime())) {
        this.#recovered();
        return false;
      }
      const next: LeaseRecord = {
        ...current,
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: seconds,
        renewTime: now,
        acquireTime: mine ? (current.acquireTime ?? now) : now,
        leaseTransitions: mine ? current.leaseTransitions : current.leaseTransitions + 1,
      };
      this.#observe(await this.#o.client.update(next), cb);
      this.#recovered();
      return true;
    } catch (err) {
      if (!(err instanceof LeaseConflictError)) this.#failed(err);
      return false;
    }
  }

  /** One warn line per distinct failure (code, reason, message); repeats go to debug with a count. */
  #failed(err: unknown): void {
    const e = kubeErrorSummary(err);
    const fresh = this.#failing.isNew(e);
    const fields = { ...kubeErrorFields(err), failures: this.#failing.failures };
    if (fresh) this.#log.warn(fields, "lease acquire/renew failed; retrying");
    else this.#log.debug(fields, "lease acquire/renew failed again");
  }

  #recovered(): void {
    if (this.#failing.failures === 0) return;
    this.#log.info({ failures: this.#failing.reset() }, "lease acquire/renew works again");
  }

  /**
   * Expired when its holder has not renewed for leaseDurationSeconds: judged both by the recorded
   * renewTime and by when we last saw the record change (the latter is immune to clock skew).
   */
  #expired(r: LeaseRecord, now: number): boolean {
    const ms = r.leaseDurationSeconds * 1000;
    const renewed = r.renewTime?.getTime();
    return renewed === undefined || renewed + ms < now || this.#observedAt + ms <= now;
  }

  #observe(r: LeaseRecord, cb: LeaderCallbacks): void {
    if (this.#observed?.resourceVersion !== r.resourceVersion) this.#observedAt = this.#nowMs();
    this.#observed = r;
    if (r.holderIdentity !== this.#leader) {
      this.#leader = r.holderIdentity;
      this.#log.info({ leader: r.holderIdentity ?? null }, "lease holder changed");
      try {
        cb.onNewLeader?.(r.holderIdentity);
      } catch (err) {
        this.#log.error(kubeErrorFields(err), "onNewLeader failed");
      }
    }
  }

  /** Hand the Lease back (empty holder, 1 s duration) if we still hold it; conflicts are ignored. */
  async #release(): Promise<void> {
    const r = this.#observed;
    if (r?.holderIdentity !== this.#o.identity) return;
    try {
      await this.#o.client.update({
        ...r,
        holderIdentity: undefined,
        leaseDurationSeconds: 1,
        renewTime: this.#o.clock.now(),
      });
      this.#log.info({}, "released lease");
    } catch (err) {
      this.#log.warn(kubeErrorFields(err), "could not release lease");
    }
  }

  #isStopped(): boolean {
    return this.#wait.isStopped();
  }

  #nowMs(): number {
    return this.#wait.nowMs();
  }
}
