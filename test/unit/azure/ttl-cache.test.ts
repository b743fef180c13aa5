import { describe, expect, it } from "@jest/globals";
import { AsyncTtlCache } from "../../../src/azure/ttl-cache.ts";

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("AsyncTtlCache", () => {
  it("shares one load between concurrent lookups", async () => {
    const c = new AsyncTtlCache<number>({ ttlMs: 1000, now: () => 0 });
    const d = deferred<number>();
    let calls = 0;
    const load = (): Promise<number> => {
      calls++;
      return d.promise;
    };
    const all = Promise.all([c.get("k", load), c.get("k", load), c.get("k", load)]);
    d.resolve(42);
    expect(await all).toEqual([42, 42, 42]);
    expect(calls).toBe(1);
    expect(c.loads).toBe(1);
  });

  it("reuses a value within the TTL and reloads after it", async () => {
    let t = 0;
    const c = new AsyncTtlCache<number>({ ttlMs: 1000, now: () => t });
    let n = 0;
    const load = (): Promise<number> => Promise.resolve(++n);
    expect(await c.get("k", load)).toBe(1);
    t = 999;
    expect(await c.get("k", load)).toBe(1);
    t = 1000;
    expect(await c.get("k", load)).toBe(2);
    c.invalidate("k");
    expect(await c.get("k", load)).toBe(3);
  });

  it("does not cache failures", async () => {
    const c = new AsyncTtlCache<number>({ ttlMs: 1000, now: () => 0 });
    await expect(c.get("k", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await c.get("k", () => Promise.resolve(7))).toBe(7);
  });

  it("evicts the least recently loaded entry beyond maxEntries", async () => {
    const c = new AsyncTtlCache<string>({ ttlMs: 1000, now: () => 0, maxEntries: 2 });
    await c.get("a", () => Promise.resolve("a1"));
    await c.get("b", () => Promise.resolve("b1"));
    await c.get("c", () => Promise.resolve("c1"));
    expect(await c.get("b", () => Promise.resolve("b2"))).toBe("b1");
    expect(await c.get("a", () => Promise.resolve("a2"))).toBe("a2");
  });

  it("names the option when the TTL is invalid", () => {
    expect(() => new AsyncTtlCache({ ttlMs: -1, now: () => 0 })).toThrow(/vmCacheTtlMs/);
  });
});
