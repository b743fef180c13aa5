// The list pass of a shard take-over: the keys taken over wait for a list that began after the
// take-over (never one begun before, not even one in flight), shards taken together share it, a
// take-over during a pass waits for the next, and a failed list or an NSG the list did not show
// leaves the key to a GET (queued without a document).
import { describe, expect, it } from "@jest/globals";
import type { ObservedNsg } from "../../../../src/core/index.ts";
import { Prefetch } from "../../../../src/operator/nsg/prefetch.ts";
import { TakeoverLists } from "../../../../src/operator/nsg/takeover.ts";
import { nsgKey } from "../../../../src/operator/state/keys.ts";
import { FakeClock, flushMicrotasks } from "../../../../src/runtime/clock.ts";
import { createLogger } from "../../../../src/runtime/logger.ts";
import { MemoryAzure, throttled } from "../../../support/memory-azure.ts";
import { foreignRule } from "../fixtures.ts";

const SUB_A = "00000000-0000-0000-0000-00000000000a";
const SUB_B = "00000000-0000-0000-0000-00000000000b";
const idOf = (sub: string, name: string): string =>
  `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/${name}`;
const A1 = idOf(SUB_A, "a1");
const A2 = idOf(SUB_A, "a2");
const B1 = idOf(SUB_B, "b1");

interface Setup {
  azure: MemoryAzure;
  clock: FakeClock;
  prefetch: Prefetch;
  takeover: TakeoverLists;
  /** Keys queued, in order. */
  woken: string[];
  /** "sub@ms" of every list call, by the clock when it was made. */
  lists: string[];
}

function setup(): Setup {
  const azure = new MemoryAzure();
  for (const id of [A1, A2, B1]) azure.addNsg(id, [foreignRule("allow-https", 1000)]);
  const clock = new FakeClock();
  const prefetch = new Prefetch(clock);
  const woken: string[] = [];
  const lists: string[] = [];
  const list = azure.listNsgs.bind(azure);
  azure.listNsgs = (sub: string): Promise<ObservedNsg[]> => {
    lists.push(`${sub}@${String(clock.now().getTime())}`);
    return list(sub);
  };
  const ids = new Map([A1, A2, B1].map((id) => [nsgKey(id), id]));
  const takeover = new TakeoverLists({
    azure,
    bindings: { nsgId: (k: string): string => ids.get(k) ?? k },
    prefetch,
    clock,
    log: createLogger("silent"),
    wakeNsg: (k) => {
      woken.push(k);
    },
  });
  return { azure, clock, prefetch, takeover, woken, lists };
}

const key = nsgKey;

describe("TakeoverLists", () => {
  it("plans from a list begun after the take-over, never from a document listed before it", async () => {
    const { azure, clock, prefetch, takeover, woken, lists } = setup();
    // Our last resync listed A1; then the previous holder wrote it.
    const listedBefore = clock.now().getTime();
    prefetch.put(key(A1), (await azure.listNsgs(SUB_A))[0] as ObservedNsg, listedBefore);
    lists.length = 0;
    azure.foreignPut(A1, foreignRule("written-by-previous-holder", 1001));
    const takenAt = clock.now().getTime();
    takeover.takeOver([key(A1)]);
    expect(takeover.waits(key(A1))).toBe(true);
    expect(prefetch.take(key(A1), undefined)).toBeUndefined();
    await clock.advanceAsync(10, 1);
    expect(lists).toHaveLength(1);
    const listedAt = Number(lists[0]?.split("@")[1]);
    expect(listedAt).toBeGreaterThan(takenAt);
    expect(woken).toEqual([key(A1)]);
    expect(takeover.waits(key(A1))).toBe(false);
    const doc = prefetch.take(key(A1), undefined);
    expect(doc?.etag).toBe(azure.etag(A1));
    expect(doc?.securityRules.map((r) => r.name)).toContain("written-by-previous-holder");
    expect(azure.calls.filter((c) => c.startsWith("getNsg"))).toEqual([]);
  });

  it("the list begins at a later clock ms than the take-over (the prefetch compares ms)", async () => {
    const { clock, takeover, lists } = setup();
    const takenAt = clock.now().getTime();
    takeover.takeOver([key(A1)]);
    clock.advance(0);
    await flushMicrotasks();
    expect(lists).toEqual([]);
    await clock.advanceAsync(1, 1);
    expect(lists).toEqual([`${SUB_A}@${String(takenAt + 1)}`]);
  });

  it("a resync list in flight at the take-over is not planned from: the take-over list runs after it", async () => {
    const { azure, clock, prefetch, takeover, woken, lists } = setup();
    let release: () => void = () => undefined;
    const before = prefetch.listPass(async () => {
      const started = clock.now().getTime();
      const docs = await azure.listNsgs(SUB_A);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      for (const d of docs) prefetch.put(key(d.id), d, started);
      prefetch.endPass(started);
    });
    await clock.advanceAsync(5, 1);
    azure.foreignPut(A1, foreignRule("written-by-previous-holder", 1001));
    takeover.takeOver([key(A1)]);
    await clock.advanceAsync(20, 1);
    // The take-over list waits for the resync pass in flight.
    expect(lists).toHaveLength(1);
    expect(woken).toEqual([]);
    release();
    await before;
    expect(prefetch.take(key(A1), undefined)).toBeUndefined();
    await clock.advanceAsync(5, 1);
    expect(lists).toHaveLength(2);
    expect(woken).toEqual([key(A1)]);
    expect(prefetch.take(key(A1), undefined)?.etag).toBe(azure.etag(A1));
  });

  it("shards taken in one turn share one list per subscription", async () => {
    const { clock, prefetch, takeover, woken, lists } = setup();
    takeover.takeOver([key(A1)]);
    takeover.takeOver([key(A2), key(B1)]);
    await clock.advanceAsync(10, 1);
    expect(lists.map((l) => l.split("@")[0]).sort()).toEqual([SUB_A, SUB_B]);
    expect(woken.sort()).toEqual([key(A1), key(A2), key(B1)].sort());
    for (const id of [A1, A2, B1]) expect(prefetch.take(key(id), undefined)).toBeDefined();
  });

  it("a key taken over again while its list runs waits for the next list", async () => {
    const { azure, clock, prefetch, takeover, woken, lists } = setup();
    const list = azure.listNsgs.bind(azure);
    let again = true;
    azure.listNsgs = async (sub: string): Promise<ObservedNsg[]> => {
      const docs = await list(sub);
      if (again) {
        again = false;
        clock.advance(3);
        takeover.takeOver([key(A1)]);
      }
      return docs;
    };
    takeover.takeOver([key(A1), key(A2)]);
    await clock.advanceAsync(3, 1);
    // The first list kept A2 only; A1 still waits.
    expect(woken).toEqual([key(A2)]);
    expect(takeover.waits(key(A1))).toBe(true);
    expect(prefetch.take(key(A1), undefined)).toBeUndefined();
    await clock.advanceAsync(10, 1);
    expect(lists).toHaveLength(2);
    expect(woken).toEqual([key(A2), key(A1)]);
    expect(prefetch.take(key(A1), undefined)).toBeDefined();
  });

  it("a failed list queues its keys without a document: each is read with a GET, as before", async () => {
    const { azure, clock, prefetch, takeover, woken } = setup();
    azure.fail("listNsgs", () => throttled(1000), { match: (s) => s === SUB_A });
    takeover.takeOver([key(A1), key(B1)]);
    await clock.advanceAsync(10, 1);
    expect(woken.sort()).toEqual([key(A1), key(B1)].sort());
    expect(prefetch.take(key(A1), undefined)).toBeUndefined();
    expect(prefetch.take(key(B1), undefined)).toBeDefined();
  });

  it("an NSG the list does not show is queued anyway (read with a GET, found missing there)", async () => {
    const { azure, clock, prefetch, takeover, woken } = setup();
    azure.removeNsg(A2);
    takeover.takeOver([key(A1), key(A2)]);
    await clock.advanceAsync(10, 1);
    expect(woken.sort()).toEqual([key(A1), key(A2)].sort());
    expect(prefetch.take(key(A2), undefined)).toBeUndefined();
    expect(takeover.waits(key(A2))).toBe(false);
  });

  it("stop ends a pass waiting to begin; nothing is queued after", async () => {
    const { clock, takeover, woken, lists } = setup();
    takeover.takeOver([key(A1)]);
    await takeover.stop();
    await clock.advanceAsync(10, 1);
    expect(lists).toEqual([]);
    expect(woken).toEqual([]);
  });
});
