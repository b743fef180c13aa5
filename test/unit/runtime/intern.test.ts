// The informer caches' string table (src/runtime/intern.ts): interning never changes a value, the
// table holds each repeated string once, and it stays within its bounds.
import { describe, expect, test } from "@jest/globals";
import { Interner, internStrings } from "../../../src/runtime/intern.ts";
import { request } from "../operator/fixtures.ts";

/** A fresh copy of `s` (JSON.parse copies string values longer than ten characters). */
const copy = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

describe("Interner", () => {
  test("returns a value equal to what it was given, for every string", () => {
    const table = new Interner();
    // Case variants too: a table that folded case would turn one target id into another.
    const values = [
      "",
      "a",
      "Approved",
      "approved",
      "TCP",
      "Tcp",
      "/NSG/A",
      "/nsg/a",
      "é ü 字 \u0000",
      "x".repeat(256),
    ];
    for (const s of values) {
      expect(table.intern(s)).toBe(s);
      expect(table.intern(copy(s))).toBe(s);
    }
  });

  test("holds each distinct string once", () => {
    const table = new Interner();
    for (let i = 0; i < 100; i++) table.intern(copy(`/subscriptions/s/nsg-${String(i % 3)}`));
    expect(table.size).toBe(3);
  });

  test("leaves strings over maxLength out of the table", () => {
    const table = new Interner({ maxLength: 8 });
    expect(table.intern("123456789")).toBe("123456789");
    table.intern("12345678");
    expect(table.size).toBe(1);
  });

  test("starts over when full, and never holds more than maxEntries", () => {
    const table = new Interner({ maxEntries: 10 });
    for (let i = 0; i < 95; i++) {
      expect(table.intern(`value-${String(i)}`)).toBe(`value-${String(i)}`);
      expect(table.size).toBeLessThanOrEqual(10);
    }
    expect(table.size).toBe(5);
  });

  test("keeps ARM ids in a table of their own: a stream of other strings does not push them out", () => {
    const table = new Interner({ maxEntries: 10 });
    const id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n";
    table.intern(id);
    // Unique sources and timestamps, many times the table's size.
    for (let i = 0; i < 94; i++) table.intern(`198.18.${String(i)}.1/32`);
    const held = table.size;
    expect(held).toBeLessThanOrEqual(10 + 1);
    // The id is still there: taking in another copy of it adds nothing.
    expect(table.intern(copy(id))).toBe(id);
    expect(table.size).toBe(held);
  });

  test("starts the id table over when full, and never holds more than maxIds ids", () => {
    const table = new Interner({ maxIds: 3 });
    for (let i = 0; i < 10; i++) {
      const id = `/subscriptions/s/nsg-${String(i)}`;
      expect(table.intern(id)).toBe(id);
      expect(table.size).toBeLessThanOrEqual(3);
    }
    expect(table.size).toBe(1);
  });

  test("names the bad option", () => {
    expect(() => new Interner({ maxIds: 0 })).toThrow(/maxIds/);
    expect(() => new Interner({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new Interner({ maxLength: -1 })).toThrow(/maxLength/);
  });
});

describe("internStrings", () => {
  test("leaves the object deep-equal to what it was, arrays, nesting and non-strings included", () => {
    const obj = {
      ...structuredClone(request({ phase: "Active", startTime: "2026-01-01T00:00:00Z" })),
      extra: { n: 1, b: true, z: null, list: ["a", 2, ["nested-string", { k: "v" }]], empty: "" },
    };
    const before = structuredClone(obj);
    internStrings(obj, new Interner());
    expect(obj).toEqual(before);
    expect(Object.keys(obj)).toEqual(Object.keys(before));
  });

  test("takes in the strings of nested objects and arrays, not the unique ones", () => {
    const table = new Interner();
    const obj = {
      metadata: { name: "unique-name", uid: "unique-uid", namespace: "team-a" },
      spec: { targets: ["/nsg/a", "/nsg/b"], deep: [{ reason: "PolicyAllows" }] },
      status: { approvalSignature: "v1.abc", rules: [{ ruleName: "drawbridge-x", protocol: "TCP" }] },
    };
    internStrings(obj, table);
    // namespace, the two targets, the reason and the protocol.
    expect(table.size).toBe(5);
    internStrings(structuredClone(obj), table);
    expect(table.size).toBe(5);
  });
});
