// Which shard an NSG key belongs to: the first 32 bits of the key's SHA-256, modulo the shard count.
// SHA-256 rather than a faster hash because the answer must be the same in every replica and every
// release (a change would move keys between holders), and its output is evenly spread whatever the
// ARM ids look like (they share long common prefixes). NSG keys are already lower case (keys.ts).
import { createHash } from "node:crypto";

/** The most shards a deployment may run: each one is a Lease renewed every retry period. */
export const MAX_SHARDS = 64;

export function shardOf(nsgKey: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)
    throw new RangeError(`shards must be an integer in 1..${String(MAX_SHARDS)}, got ${String(shards)}`);
  if (shards === 1) return 0;
  return createHash("sha256").update(nsgKey).digest().readUInt32BE(0) % shards;
}

/** Lease name of shard i: "<base>-shard-<i>". */
export function shardLeaseName(base: string, shard: number): string {
  return `${base}-shard-${String(shard)}`;
}

/**
 * Member slots for `shards` shards: one per shard, plus room for a rolling update's surge (the
 * Deployment default, 25 % rounded up). A replica without a slot still counts itself, but the
 * others would not count it, and their shares of the ARM budget would add up to more than all of it.
 */
export function memberSlots(shards: number): number {
  return shards + Math.ceil(shards / 4);
}

/** Lease name of member slot j, which says a replica is alive (see shard-plan.ts). */
export function memberLeaseName(base: string, slot: number): string {
  return `${base}-member-${String(slot)}`;
}
