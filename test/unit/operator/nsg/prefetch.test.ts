// The rules a listed NSG document follows between resyncs: no age limit, used once, replaced or
// dropped by the next pass, never used when it may predate a write of ours (in flight, ended after
// the list began, or failed), and kept without what the planner does not read.
import { describe, expect, it } from "@jest/globals";
import type { ObservedNsg } from "../../../../src/core/index.ts";
import { Prefetch } from "../../../../src/operator/nsg/prefetch.ts";
import { FakeClock } from "../../../../src/runtime/clock.ts";
import { JUMP_NSG, foreignRule } from "../fixtures.ts";

const KEY = "jump";

function doc(etag: string): ObservedNsg {
  return {
    id: JUMP_NSG,
    etag,
    location: "westeurope",
    securityRules: [{ ...foreignRule("allow-https", 1000), etag: 'W/"r1"', provisioningState: "Succeeded" }],
  };
}

function setup(): { clock: FakeClock; p: Prefetch; now: () => number } {
  const clock = new FakeClock();
  return { clock, p: new Prefetch(clock), now: () => clock.now().getTime() };
}

describe("Prefetch", () => {
  it("keeps a listed document with no age limit, and hands it out once", () => {
    const { clock, p, now } = setup();
    expect(p.put(KEY, doc('W/"1"'), now())).toBe(true);
    clock.advance(60 * 60_000);
    expect(p.take(KEY, undefined)?.etag).toBe('W/"1"');
    expect(p.take(KEY, undefined)).toBeUndefined();
    expect(p.size).toBe(0);
  });

  it("keeps only what the planner reads, in a new object", () => {
    const { p, now } = setup();
    const listed = doc('W/"1"');
    p.put(KEY, listed, now());
    const got = p.take(KEY, undefined);
    expect(got).not.toBe(listed);
    expect(got).toEqual({
      id: JUMP_NSG,
      etag: 'W/"1"',
      location: "westeurope",
      securityRules: [foreignRule("allow-https", 1000)],
    });
  });

  it("the next pass replaces a document, and drops one it did not list again", () => {
    const { clock, p, now } = setup();
    const first = now();
    p.put(KEY, doc('W/"1"'), first);
    p.put("other", doc('W/"7"'), first);
    clock.advance(1000);
    const second = now();
    p.put(KEY, doc('W/"2"'), second);
    p.endPass(second);
    expect(p.take("other", undefined)).toBeUndefined();
    expect(p.take(KEY, undefined)?.etag).toBe('W/"2"');
  });

  it("never hands out a document listed before the ledger's last write", () => {
    const { clock, p, now } = setup();
    const listedAt = now();
    p.put(KEY, doc('W/"1"'), listedAt);
    clock.advance(5);
    expect(p.take(KEY, listedAt + 5)).toBeUndefined();
    p.put(KEY, doc('W/"1"'), listedAt);
    expect(p.take(KEY, listedAt)).toBeUndefined();
  });

  it("a write of ours drops the listed document", () => {
    const { clock, p, now } = setup();
    p.put(KEY, doc('W/"1"'), now());
    clock.advance(10);
    p.writing(KEY)();
    expect(p.take(KEY, undefined)).toBeUndefined();
  });

  it("refuses a document listed while a write of ours was in flight, even after it ends", () => {
    const { clock, p, now } = setup();
    const done = p.writing(KEY);
    clock.advance(10);
    const listedAt = now();
    expect(p.put(KEY, doc('W/"1"'), listedAt)).toBe(false);
    clock.advance(10);
    done();
    expect(p.take(KEY, undefined)).toBeUndefined();
    // Put after the write ended (it failed: the ledger never heard of it), same list: refused too.
    expect(p.put(KEY, doc('W/"1"'), listedAt)).toBe(false);
    expect(p.take(KEY, undefined)).toBeUndefined();
  });

  it("refuses a document whose list began before a write that ended (or failed) meanwhile", () => {
    const { clock, p, now } = setup();
    const listedAt = now();
    clock.advance(10);
    const done = p.writing(KEY);
    clock.advance(10);
    done();
    clock.advance(10);
    expect(p.put(KEY, doc('W/"1"'), listedAt)).toBe(false);
    expect(p.take(KEY, undefined)).toBeUndefined();
    // A list that began after the write ended is good.
    expect(p.put(KEY, doc('W/"2"'), now())).toBe(true);
    expect(p.take(KEY, undefined)?.etag).toBe('W/"2"');
  });

  it("counts overlapping writes: the document waits for the last one", () => {
    const { clock, p, now } = setup();
    const a = p.writing(KEY);
    const b = p.writing(KEY);
    a();
    a();
    clock.advance(10);
    expect(p.put(KEY, doc('W/"1"'), now())).toBe(false);
    b();
    clock.advance(10);
    expect(p.put(KEY, doc('W/"2"'), now())).toBe(true);
  });

  it("forgets write times no later list can predate, only at the end of a later pass", () => {
    const { clock, p, now } = setup();
    const listedAt = now();
    clock.advance(10);
    p.writing(KEY)();
    p.endPass(listedAt);
    expect(p.put(KEY, doc('W/"1"'), listedAt)).toBe(false);
    clock.advance(10);
    p.endPass(now());
    expect(p.put(KEY, doc('W/"2"'), now())).toBe(true);
  });
});

describe("Prefetch.invalidate (a shard taken over from another replica)", () => {
  it("drops the document and refuses one whose list began before", () => {
    const { clock, p, now } = setup();
    const listedAt = now();
    p.put(KEY, doc('W/"1"'), listedAt);
    clock.advance(10);
    p.invalidate(KEY);
    expect(p.take(KEY, undefined)).toBeUndefined();
    expect(p.put(KEY, doc('W/"1"'), listedAt)).toBe(false);
    clock.advance(10);
    expect(p.put(KEY, doc('W/"2"'), now())).toBe(true);
  });
});
