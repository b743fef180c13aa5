// One round's view of a set of Leases, with client-go's expiry rule: a Lease is expired when this
// replica has not seen its record change for leaseDurationSeconds, by this replica's own clock
// (immune to clock skew between replicas). Writes are resourceVersion-guarded,
// so two replicas reaching for the same free Lease cannot both win.
import type { Clock } from "./clock.ts";
import { LeaseConflictError } from "./lease-client.ts";
import type { LeaseClient, LeaseRecord } from "./lease-client.ts";
import type { LeaseView } from "./shard-plan.ts";

export class LeaseStore {
  readonly #clients: LeaseClient[];
  readonly #clock: Clock;
  readonly #identity: string;
  readonly #seconds: number;
  readonly #records: (LeaseRecord | undefined)[];
  readonly #observedAt: number[];

  /** The last failed write per Lease, for the caller's log (conflicts included). */
  readonly failures = new Map<number, string>();
  /** Leases whose write met a conflict: someone else wrote the record since we last did. */
  readonly conflicted = new Set<number>();

  constructor(clients: LeaseClient[], clock: Clock, identity: string, leaseDurationMs: number) {
    this.#clients = clients;
    this.#clock = clock;
    this.#identity = identity;
    this.#seconds = Math.ceil(leaseDurationMs / 1000);
    this.#records = clients.map(() => undefined);
    this.#observedAt = clients.map(() => 0);
  }

  get size(): number {
    return this.#clients.length;
  }

  /** Re-read every Lease but `skip` (a failed read keeps the last record, which ages towards expiry). */
  async refresh(skip: ReadonlySet<number> = new Set()): Promise<void> {
    await Promise.all(
      this.#clients.map(async (c, i) => {
        if (skip.has(i)) return;
        try {
          this.#observe(i, await c.get());
        } catch (err) {
          this.failures.set(i, err instanceof Error ? err.message : String(err));
          // Judged from the last record: a Lease we cannot read is never taken for free by mistake.
        }
      }),
    );
  }

  view(i: number): LeaseView {
    const r = this.#records[i];
    if (r === undefined) return { holder: undefined, expired: true };
    return { holder: r.holderIdentity, expired: this.#expired(i, r) };
  }

  views(): LeaseView[] {
    return this.#records.map((_, i) => this.view(i));
  }

  isMine(i: number): boolean {
    const v = this.view(i);
    return v.holder === this.#identity;
  }

  /** Take (free/expired) or renew Lease i. True when we hold it afterwards. */
  async claim(i: number): Promise<boolean> {
    const now = this.#clock.now();
    const client = this.#clients[i];
    if (client === undefined) return false;
    try {
      const current = this.#records[i];
      if (current === undefined) {
        const fresh = { holderIdentity: this.#identity, leaseDurationSeconds: this.#seconds };
        const made = { ...fresh, acquireTime: now, renewTime: now, leaseTransitions: 0 };
        this.#observe(i, await client.create(made));
        this.conflicted.delete(i);
        return true;
      }
      const mine = current.holderIdentity === this.#identity;
      if (!mine && current.holderIdentity !== undefined && !this.#expired(i, current)) return false;
      this.#observe(
        i,
        await client.update({
          ...current,
          holderIdentity: this.#identity,
          leaseDurationSeconds: this.#seconds,
          renewTime: now,
          acquireTime: mine ? (current.acquireTime ?? now) : now,
          leaseTransitions: mine ? current.leaseTransitions : current.leaseTransitions + 1,
        }),
      );
      this.conflicted.delete(i);
      return true;
    } catch (err) {
      this.failures.set(i, err instanceof Error ? err.message : String(err));
      // Re-read on the next round: a stale record cannot be written again.
      if (err instanceof LeaseConflictError) {
        this.#records[i] = undefined;
        this.conflicted.add(i);
      }
      return false;
    }
  }

  /** Hand Lease i back (empty holder, 1 s duration) if we still hold it; failures are ignored. */
  async release(i: number): Promise<void> {
    const r = this.#records[i];
    const client = this.#clients[i];
    if (r?.holderIdentity !== this.#identity || client === undefined) return;
    try {
      const freed = {
        ...r,
        holderIdentity: undefined,
        leaseDurationSeconds: 1,
        renewTime: this.#clock.now(),
      };
      this.#observe(i, await client.update(freed));
    } catch {
      // It expires on its own within the lease duration.
    }
  }

  #observe(i: number, r: LeaseRecord | undefined): void {
    if (r === undefined || this.#records[i]?.resourceVersion !== r.resourceVersion)
      this.#observedAt[i] = this.#clock.now().getTime();
    this.#records[i] = r;
  }

  #expired(i: number, r: LeaseRecord): boolean {
    if (r.holderIdentity === undefined) return true;
    const now = this.#clock.now().getTime();
    const ms = r.leaseDurationSeconds * 1000;
    // Only by our own clock: a lease duration since we last saw the record change. The holder's
    // renewTime is its clock, and a holder running behind would otherwise lose a live shard.
    return (this.#observedAt[i] ?? now) + ms <= now;
  }
}
