// The sharding campaign: every retry period one round re-reads the member slot Leases and the shard
// Leases, renews what this replica holds, and takes or gives back shards by planShards. Safety:
// - a shard counts as held from the moment its Lease write succeeded until renewDeadline after the
//   last successful renewal; renewDeadline < leaseDuration, so a replica stops before anyone else
//   may take the Lease. Missing the deadline is reported as lost (the operator then exits).
// - a shard is given back only after beforeRelease resolved: its work is stopped and drained first.
import type { Clock } from "./clock.ts";
import { InterruptibleSleep } from "./interruptible-sleep.ts";
import type { LeaseClient } from "./lease-client.ts";
import type { Logger } from "./logger.ts";
import { LeaseStore } from "./shard-lease-store.ts";
import { liveReplicas, planShards } from "./shard-plan.ts";

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
  /** Told each renewal round's time from sending to the last answer (ms), for a metric. */
  onRenewed?: (ms: number) => void;
}

export interface ShardCallbacks {
  /** The shard's Lease is ours: start its work. */
  onAcquired(shard: number): void;
  /** Stop the shard's work and wait for what is in flight; the Lease is released after this. */
  beforeRelease(shard: number): Promise<void>;
  /** A held shard could not be renewed within renewDeadline: stop everything. */
  onLost(shard: number): void;
  /** The live replicas, self included, as each balancing round saw them (shard-plan.ts liveReplicas). */
  onReplicas?(replicas: number): void;
}

export class ShardLeases {
  readonly #o: ShardLeasesOptions;
  readonly #shards: LeaseStore;
  readonly #slots: LeaseStore;
  /** Held shard -> clock ms of its last successful claim or renewal. */
  readonly #held = new Map<number, number>();
  readonly #wait: InterruptibleSleep;
  #running: Promise<void> | undefined;

  constructor(o: ShardLeasesOptions) {
    this.#o = o;
    this.#wait = new InterruptibleSleep(o.clock);
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
    this.#wait.stop();
    await this.#running;
    for (const s of this.held()) {
      await cb.beforeRelease(s);
      this.#held.delete(s);
      await this.#shards.release(s);
    }
    for (let j = 0; j < this.#slots.size; j++) if (this.#slots.isMine(j)) await this.#slots.release(j);
  }

  /**
   * Two loops, each every retry period: renewals on their own, so a slow balancing round (reads of
   * every Lease, acquisitions) never delays them past the renew deadline.
   */
  async #loop(cb: ShardCallbacks): Promise<void> {
    const renewing = (async (): Promise<void> => {
      while (!this.#isStopped()) {
        const started = this.#nowMs();
        const lost = await this.renew();
        if (lost === undefined) {
          // A retry period from when this round was sent, not answered: a slow answer must not
          // push the next renewal towards the deadline as well.
          await this.#wait.sleep(Math.max(0, started + this.#o.retryPeriodMs - this.#nowMs()));
          continue;
        }
        // At once, not after the balancing round in flight: the shard's writes must stop now.
        this.#wait.stop();
        this.#o.logger.error({ shard: lost, renewDeadlineMs: this.#o.renewDeadlineMs }, "lost shard lease");
        cb.onLost(lost);
      }
    })();
    while (!this.#isStopped()) {
      await this.balance(cb);
      await this.#wait.sleep(this.#o.retryPeriodMs);
    }
    await renewing;
  }

  /** renew() then balance(): one round of both loops, for tests. */
  async round(cb: ShardCallbacks): Promise<number | undefined> {
    const lost = await this.renew();
    if (lost === undefined) await this.balance(cb);
    return lost;
  }

  /**
   * Renews every held shard at once from the record last written (no read first). Returns a shard
   * not renewed within the renew deadline (lost), if any.
   */
  async renew(): Promise<number | undefined> {
    const started = this.#nowMs();
    const held = this.held();
    const renewed = await Promise.all(held.map((s) => this.#within(this.#shards.claim(s), s)));
    if (held.length > 0) this.#tookRenewal(this.#nowMs() - started, held);
    for (const [i, s] of held.entries()) {
      if (!this.#held.has(s)) continue; // given back meanwhile
      // Someone else wrote a Lease we hold: it may be theirs now, so it is lost at once, not at
      // the renew deadline (the writes must stop before they start theirs).
      if (this.#shards.conflicted.delete(s)) return s;
      // From when the renewal was sent, not answered: a slow answer must not extend our deadline
      // past what the written renewTime gives everyone else.
      if (renewed[i] === true) this.#held.set(s, started);
      else this.#renewFailed(s, started);
    }
    return this.held().find((s) => this.#nowMs() - (this.#held.get(s) ?? 0) >= this.#o.renewDeadlineMs);
  }

  /** Reads the slots and the shard Leases, then takes (all at once) and gives back by planShards. */
  async balance(cb: ShardCallbacks): Promise<void> {
    const members = await this.#memberRound();
    // Held shards are not re-read: our own last write is their truth (a read could be older).
    await this.#shards.refresh(new Set(this.held()));
    if (this.#isStopped()) return;
    const input = { self: this.#o.identity, shards: this.#shards.views(), members };
    cb.onReplicas?.(liveReplicas(input));
    const plan = planShards(input);
    // Held time counts from before the write was sent, as others count from the record it wrote.
    const sent = this.#nowMs();
    const taken = await Promise.all(plan.acquire.map((s) => this.#shards.claim(s)));
    for (const [i, s] of plan.acquire.entries()) {
      if (taken[i] !== true) continue;
      this.#held.set(s, sent);
      this.#o.logger.info({ shard: s, target: plan.target, members: members.length }, "acquired shard");
      if (this.#isStopped()) continue; // stop() releases it with the others
      cb.onAcquired(s);
    }
    for (const s of plan.release) {
      // Still held (and renewed by the other loop) while its work drains: a drain longer than the
      // Lease's remaining time must not let another replica take the shard while a write is in flight.
      await cb.beforeRelease(s);
      this.#held.delete(s);
      await this.#shards.release(s);
      this.#o.logger.info({ shard: s, target: plan.target }, "released shard to rebalance");
    }
  }

  /** Slow answers are logged: with the event loop watchdog's log they tell a slow API server from a stalled loop. */
  #tookRenewal(ms: number, shards: number[]): void {
    this.#o.onRenewed?.(ms);
    if (ms > this.#o.retryPeriodMs) {
      this.#o.logger.warn(
        { shards, tookMs: ms, renewDeadlineMs: this.#o.renewDeadlineMs },
        "slow shard renewal",
      );
    }
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

  /** A renewal that has not settled before the shard's deadline counts as failed (claim never rejects). */
  #within(p: Promise<boolean>, shard: number): Promise<boolean> {
    const left = (this.#held.get(shard) ?? 0) + this.#o.renewDeadlineMs - this.#nowMs();
    return this.#wait.within(p, left).catch(() => false);
  }

  #isStopped(): boolean {
    return this.#wait.isStopped();
  }

  #nowMs(): number {
    return this.#wait.nowMs();
  }
}
