// The balancing rule of sharding, pure so it can be tested alone. Each replica holds one member slot
// Lease (proof it is alive, even while it holds no shard); the live replicas are the unexpired slot
// holders. A replica's target is ceil(shards / live). Each round a replica:
// - takes free or expired shard Leases while it holds fewer than its target, shard 0 first (its
//   holder decides requests and policies, so it must never stay free);
// - gives back shards above its target only when a live replica holds fewer than floor(shards /
//   live), so shards never bounce back and forth, and never shard 0 (no decider hand-over while
//   others could be waiting on it; it moves only when its holder stops or dies).
// A failed replica's slot and shards expire together (renewed in the same round), so the survivors'
// target rises just as its shards become free: failover takes the lease duration plus one round.

export interface LeaseView {
  /** Holder identity, undefined when free. */
  holder: string | undefined;
  /** True when the holder has not renewed within the lease duration. */
  expired: boolean;
}

export interface ShardPlanInput {
  self: string;
  /** Shard Leases by index (length = shard count). */
  shards: LeaseView[];
  /** Identities of the live members (unexpired slot holders), self included. */
  members: string[];
}

export interface ShardPlan {
  target: number;
  /** Shards to take now (free or expired), in this order. */
  acquire: number[];
  /** Shards of ours to give back (after their work stopped). */
  release: number[];
}

export function planShards(input: ShardPlanInput): ShardPlan {
  const n = input.shards.length;
  const members = new Set([...input.members, input.self]);
  const live = members.size;
  const target = Math.ceil(n / live);
  const floor = Math.floor(n / live);
  const held = new Map<string, number>([...members].map((m) => [m, 0]));
  const free: number[] = [];
  const mine: number[] = [];
  input.shards.forEach((s, i) => {
    if (s.holder === undefined || s.expired) {
      free.push(i);
      return;
    }
    held.set(s.holder, (held.get(s.holder) ?? 0) + 1);
    if (s.holder === input.self) mine.push(i);
  });
  const room = Math.max(0, target - mine.length);
  const acquire = free.slice(0, room);
  const after = mine.length + acquire.length;
  const starving = [...held].some(([m, c]) => m !== input.self && members.has(m) && c < floor);
  const release =
    after > target && starving && free.length === 0
      ? mine
          .filter((i) => i !== 0)
          .reverse()
          .slice(0, after - target)
      : [];
  return { target, acquire, release };
}

/**
 * How many replicas are alive now, self included: the live members and the holders of unexpired
 * shard Leases (a holder whose slot this replica has not seen still counts). Each takes an equal
 * part of the subscriptions' ARM budget (src/azure/rate-share.ts); a replica holding no shard still
 * counts, since its resync lists every subscription.
 */
export function liveReplicas(input: ShardPlanInput): number {
  const live = new Set([...input.members, input.self]);
  for (const s of input.shards) if (s.holder !== undefined && !s.expired) live.add(s.holder);
  return live.size;
}
