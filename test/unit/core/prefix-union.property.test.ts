// PrefixUnion, kept as sources come and go, must count exactly what unionAddressCount counts.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { unionAddressCount } from "../../../src/core/cidr.ts";
import { PrefixUnion } from "../../../src/core/prefix-union.ts";

// A small address space, so prefixes nest, repeat and touch often.
const v4 = fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 28, max: 32 })).map(([host, bits]) => {
  const mask = bits >= 32 ? 0 : 0xff >>> (bits - 24);
  return `10.0.0.${host & ~mask & 0xff}/${bits}`;
});
const v6 = fc
  .tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 124, max: 128 }))
  .map(([host, bits]) => `2001:db8::${(host & ~((1 << (128 - bits)) - 1)).toString(16)}/${bits}`);
// The same block spelled otherwise: a host without its length, an IPv6 address in capitals.
const spelled = fc.oneof(
  v4.filter((t) => t.endsWith("/32")).map((t) => t.slice(0, -3)),
  v6.map((t) => t.toUpperCase()),
);
const text = fc.oneof(v4, v4, v6, spelled, fc.constantFrom("*", "Any", "0.0.0.0/0", "not-an-address"));

describe("PrefixUnion", () => {
  // Read after every step with extra sources (the kept cover must survive the next add or remove),
  // or only now and then without any (covers built late, dropped and rebuilt).
  it.each([
    { when: "after every add and remove, with extra sources", read: fc.constant(true), extras: 3 },
    { when: "only now and then", read: fc.boolean(), extras: 0 },
  ])("equals unionAddressCount over the sources held when read $when", ({ read, extras }) => {
    const op = fc.record({ add: fc.boolean(), read, text });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(text, { maxLength: extras }), (ops, extra) => {
        const u = new PrefixUnion();
        const held: string[] = [];
        const expectCounted = (): void => {
          for (const family of ["IPv4", "IPv6"] as const) {
            expect(u.totalWith(extra, family)).toBe(unionAddressCount([...held, ...extra], family));
          }
        };
        for (const o of ops) {
          if (o.add) {
            u.add(o.text);
            held.push(o.text);
          } else {
            const i = held.indexOf(o.text);
            if (i < 0) continue;
            u.remove(o.text);
            held.splice(i, 1);
          }
          if (o.read) expectCounted();
        }
        expectCounted();
        expect(u.empty).toBe(
          held.every((t) => unionAddressCount([t], "IPv4") + unionAddressCount([t], "IPv6") === 0n),
        );
      }),
      { numRuns: 500 },
    );
  });

  it("keeps counting a block another spelling of it still holds", () => {
    const u = new PrefixUnion();
    u.add("10.0.0.1/32");
    u.add("10.0.0.1");
    u.add("10.0.0.0/31");
    expect(u.totalWith([], "IPv4")).toBe(2n);
    u.remove("10.0.0.0/31");
    expect(u.totalWith([], "IPv4")).toBe(1n);
    u.remove("10.0.0.1/32");
    expect(u.totalWith([], "IPv4")).toBe(1n);
    u.remove("10.0.0.1");
    expect(u.totalWith([], "IPv4")).toBe(0n);
    expect(u.empty).toBe(true);
  });

  it("counts the sources of a block however they are spelled", () => {
    const u = new PrefixUnion();
    u.add("2001:db8::1/128");
    u.add("2001:DB8::1");
    u.add("10.0.0.1");
    expect(u.totalWith([], "IPv4")).toBe(1n);
    u.remove("2001:db8::1/128");
    expect(u.totalWith([], "IPv6")).toBe(1n);
    u.remove("2001:db8::1/128");
    expect(u.totalWith([], "IPv6")).toBe(0n);
    u.remove("10.0.0.1/32");
    expect(u.empty).toBe(true);
  });

  it("counts the same with a few blocks held and with many, twice each, added and removed", () => {
    const u = new PrefixUnion();
    const texts = Array.from({ length: 20 }, (_, i) => `10.0.${String(i)}.0/${String(24 + (i % 3))}`);
    const held: string[] = [];
    for (const t of [...texts, ...texts]) {
      u.add(t);
      held.push(t);
      expect(u.totalWith([], "IPv4")).toBe(unionAddressCount(held, "IPv4"));
    }
    for (const t of [...texts].reverse().concat(texts)) {
      u.remove(t);
      held.splice(held.indexOf(t), 1);
      expect(u.totalWith(["10.0.3.0/24"], "IPv4")).toBe(unionAddressCount([...held, "10.0.3.0/24"], "IPv4"));
    }
    expect(u.empty).toBe(true);
  });

  it("counts a wider prefix once over the narrower ones it holds", () => {
    const u = new PrefixUnion();
    u.add("10.0.0.1/32");
    u.add("10.0.0.2/32");
    expect(u.totalWith([], "IPv4")).toBe(2n);
    expect(u.totalWith(["10.0.0.0/30"], "IPv4")).toBe(4n);
    u.add("10.0.0.0/30");
    u.remove("10.0.0.0/30");
    expect(u.totalWith(["10.0.0.3/32"], "IPv4")).toBe(3n);
  });
});
