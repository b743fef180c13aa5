// The sharding campaign: every retry period one round re-reads the member slot Leases and the shard
// Leases, renews what this replica holds, and takes or gives back shards by planShards. Safety:
// - a shard counts as held from the moment its Lease write succeeded until renewDeadline after the
//   last successful renewal; renewDeadline < leaseDuration, so a replica stops before anyone else
//   may take the Lease. Missing the deadline is reported as lost (the operator then exits).
// - a shard is given back only after beforeRelease resolved: its work is stopped and drained first.
import type { Clock, Timer } from "./clock.ts";
import type { LeaseClient } from "./lease-client.ts";
import type { Logger } from "./logger.ts";
import { LeaseStore } from "./shard-lease-store.ts";
import { planShards } from "./shard-plan.ts";

export interface ShardLeasesOptions {
  /** Shard Lease clients by index, then member slot clients (one slot per possible replica). */
  shardClients: LeaseClient[];
  slotClients: LeaseClient[];
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock: Clock;
  logger: Logger;
}

export interface ShardCallbacks {
  /** The shard's Lease is ours: start its work. */
  onAcquired(shard: number): void;
  /** Stop the shard's work and wait for what is in flight; the Lease is released after this. */
  beforeRelease(shard: number): Promise<void>;
  /** A held shard could not be renewed within renewDeadline: stop everything. */
  onLost(shard: number): void;
}

export class ShardLeases {
  readonly #o: ShardLeasesOptions;
  readonly #shards: LeaseStore;
  readonly #slots: LeaseStore;
  /** Held shard -> clock ms of its last successful claim or renewal. */
  readonly #held = new Map<number, number>();
  #stopped = false;
  #timer: Timer | undefined;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(o: ShardLeasesOptions) {
    this.#o = o;
    this.#shards = new LeaseStore(o.shardClients, o.clock, o.identity, o.leaseDurationMs);
    this.#slots = new LeaseStore(o.slotClients, o.clock, o.identity, o.leaseDurationMs);
  }

  /** Shards held now. */
  held(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  run(cb: ShardCallbacks): Promise<void> {
    if (this.#running !== undefined) throw new Error("ShardLeases.run called twice");
    this.#running = this.#loop(cb);
    return this.#running;
  }

  /** Stop campaigning; every held shard is stopped (beforeRelease) and then released. */
  async stop(cb: Pick<ShardCallbacks, "beforeRelease">): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
    this.#wake?.();
    await this.#running;
    for (const s of this.held()) {
      await cb.beforeRelease(s);
      this.#held.delete(s);
      await this.#shards.release(s);
    }
    for (let j = 0; j < this.#slots.size; j++) if (this.#slots.isMine(j)) await this.#slots.release(j);
  }

  async #loop(cb: ShardCallbacks): Promise<void> {
    while (!this.#stopped) {
      const lost = await this.round(cb);
      if (lost !== undefined) {
        this.#o.logger.error({ shard: lost, renewDeadlineMs: this.#o.renewDeadlineMs }, "lost shard lease");
        cb.onLost(lost);
        return;
      }
      await this.#sleep(this.#o.retryPeriodMs);
    }
  }

  /** One round; returns a shard that was lost, if any. Exposed for tests. */
  async round(cb: ShardCallbacks): Promise<number | undefined> {
    const members = await this.#memberRound();
    await this.#shards.refresh();
    for (const s of this.held()) {
      const started = this.#nowMs();
      if (await this.#within(this.#shards.claim(s), s)) this.#held.set(s, this.#nowMs());
      else this.#renewFailed(s, started);
      if (this.#nowMs() - (this.#held.get(s) ?? 0) >= this.#o.renewDeadlineMs) return s;
    }
    if (this.#isStopped()) return undefined;
    const plan = planShards({ self: this.#o.identity, shards: this.#shards.views(), members });
    for (const s of plan.acquire) {
      if (this.#isStopped() || !(await this.#shards.claim(s))) continue;
      this.#held.set(s, this.#nowMs());
      this.#o.logger.info({ shard: s, target: plan.target, members: members.length }, "acquired shard");
      cb.onAcquired(s);
    }
    for (const s of plan.release) {
      this.#held.delete(s);
      await cb.beforeRelease(s);
      await this.#shards.release(s);
      this.#o.logger.info({ shard: s, target: plan.target }, "released shard to rebalance");
    }
    return undefined;
  }

  #renewFailed(shard: number, started: number): void {
    const err = this.#shards.failures.get(shard) ?? "no answer before the renew deadline";
    this.#shards.failures.delete(shard);
    const sinceRenewMs = this.#nowMs() - (this.#held.get(shard) ?? 0);
    this.#o.logger.warn(
      { shard, err, tookMs: this.#nowMs() - started, sinceRenewMs },
      "shard renewal failed",
    );
  }

  /** Renew or take a member slot; the live members are the unexpired slot holders. */
  async #memberRound(): Promise<string[]> {
    await this.#slots.refresh();
    let mine = -1;
    for (let j = 0; j < this.#slots.size && mine < 0; j++) if (this.#slots.isMine(j)) mine = j;
    if (mine >= 0) await this.#slots.claim(mine);
    else
      for (let j = 0; j < this.#slots.size; j++) {
        const v = this.#slots.view(j);
        if ((v.holder === undefined || v.expired) && (await this.#slots.claim(j))) break;
      }
    const out = new Set<string>([this.#o.identity]);
    for (const v of this.#slots.views()) if (v.holder !== undefined && !v.expired) out.add(v.holder);
    return [...out];
  }

  /** A renewal that has not settled before the shard's deadline counts as failed. */
  #within(p: Promise<boolean>, shard: number): Promise<boolean> {
    const left = (this.#held.get(shard) ?? 0) + this.#o.renewDeadlineMs - this.#nowMs();
    if (left <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const t = this.#o.clock.setTimer(() => {
        resolve(false);
      }, left);
      void p.then((v) => {
        this.#o.clock.clearTimer(t);
        resolve(v);
      });
    });
  }

  /** A method, so a check after an await is not folded away by the type checker. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  #nowMs(): number {
    return this.#o.clock.now().getTime();
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = this.#o.clock.setTimer(resolve, ms);
    });
  }
}
