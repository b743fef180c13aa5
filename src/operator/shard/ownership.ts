// Which NSG keys this replica may write: those whose shard it holds. Every write-capable reconcile
// runs inside whileOwned, which counts it per shard, so giving a shard back can first stop new
// reconciles of its keys and then wait for the ones in flight: nothing of the shard is written once
// its Lease is released. Shard 0's holder is the decider (requests, policies, scopes: ADR 0018).
import { shardOf } from "../../runtime/shard-hash.ts";

export class ShardOwnership {
  readonly shards: number;
  readonly #held = new Set<number>();
  readonly #inFlight = new Map<number, number>();
  readonly #drained = new Map<number, (() => void)[]>();

  constructor(shards: number) {
    this.shards = shards;
  }

  shardOf(nsgKey: string): number {
    return shardOf(nsgKey, this.shards);
  }

  owns(nsgKey: string): boolean {
    return this.#held.has(this.shardOf(nsgKey));
  }

  isDecider(): boolean {
    return this.#held.has(0);
  }

  held(): number[] {
    return [...this.#held].sort((a, b) => a - b);
  }

  add(shard: number): void {
    this.#held.add(shard);
  }

  /**
   * Runs fn when the key's shard is held (undefined when not: nothing runs). The shard cannot be
   * drained until fn settled.
   */
  whileOwned<T>(nsgKey: string, fn: () => Promise<T>): Promise<T> | undefined {
    const s = this.shardOf(nsgKey);
    if (!this.#held.has(s)) return undefined;
    this.#inFlight.set(s, (this.#inFlight.get(s) ?? 0) + 1);
    return fn().finally(() => {
      const left = (this.#inFlight.get(s) ?? 1) - 1;
      if (left > 0) {
        this.#inFlight.set(s, left);
        return;
      }
      this.#inFlight.delete(s);
      for (const w of this.#drained.get(s)?.splice(0) ?? []) w();
    });
  }

  /** Stop owning the shard and resolve once none of its reconciles is in flight. */
  drop(shard: number): Promise<void> {
    this.#held.delete(shard);
    if ((this.#inFlight.get(shard) ?? 0) === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const list = this.#drained.get(shard) ?? [];
      list.push(resolve);
      this.#drained.set(shard, list);
    });
  }
}
