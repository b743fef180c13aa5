// The informer caches' shared parts (src/runtime/share.ts): sharing changes no value, equal small
// parts become one frozen object, and a write to a shared part fails instead of reaching every
// object that shares it.
import { describe, expect, test } from "@jest/globals";
import { PartTable, shareParts } from "../../../src/runtime/share.ts";
import { request } from "../operator/fixtures.ts";

function active(name: string): Record<string, unknown> {
  const r = request({
    phase: "Active",
    startTime: "2026-01-01T00:00:00Z",
    expiresAt: "2026-01-01T01:00:00Z",
    conditions: [
      { type: "Approved", status: "True", reason: "PolicyAllows", message: "ok", lastTransitionTime: "t" },
    ],
    approved: { targets: ["/nsg/a"], ports: [{ number: 22, protocol: "TCP" }] },
  });
  r.metadata.name = name;
  r.metadata.finalizers = ["jit.drawbridge.dev/cleanup"];
  return r as unknown as Record<string, unknown>;
}

type Tree = Record<string, Record<string, unknown>>;

describe("shareParts", () => {
  test("leaves the object deep-equal to what it was", () => {
    const obj = { ...active("a"), extra: { zero: 0, list: [1, "x", null, true, { k: "v" }] } };
    const before = structuredClone(obj);
    shareParts(obj, new PartTable());
    expect(obj).toEqual(before);
  });

  test("gives equal parts of two objects one frozen copy, and keeps the top level their own", () => {
    const table = new PartTable();
    const a = active("a") as Tree;
    const b = active("b") as Tree;
    shareParts(a, table);
    shareParts(b, table);
    expect(b["metadata"]?.["finalizers"]).toBe(a["metadata"]?.["finalizers"]);
    expect(b["status"]?.["approved"]).toBe(a["status"]?.["approved"]);
    expect(b["status"]?.["conditions"]).toBe(a["status"]?.["conditions"]);
    expect(b["spec"]?.["ports"]).toBe(a["spec"]?.["ports"]);
    expect(Object.isFrozen(b["status"]?.["approved"])).toBe(true);
    expect(b["status"]).not.toBe(a["status"]);
    expect(b["metadata"]).not.toBe(a["metadata"]);
  });

  test("a write to a shared part throws and changes no other object", () => {
    const table = new PartTable();
    const a = active("a") as Tree;
    const b = active("b") as Tree;
    shareParts(a, table);
    shareParts(b, table);
    const targets = (a["status"]?.["approved"] as { targets: string[] }).targets;
    expect(() => targets.push("/nsg/everything")).toThrow(TypeError);
    expect((b["status"]?.["approved"] as { targets: string[] }).targets).toEqual(["/nsg/a"]);
  });

  test("keeps apart what JSON would confuse, and parts too large or not plain", () => {
    const table = new PartTable();
    const part = (
      zero: number,
    ): { s: { n: number; m: number }; d: { at: Date }; big: { list: number[] } } => ({
      s: { n: zero, m: 1 },
      d: { at: new Date(0) },
      big: { list: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
    });
    // Below the top level, where parts are shared.
    const a = { x: part(-0) };
    const b = { x: part(0) };
    shareParts(a, table);
    shareParts(b, table);
    expect(Object.is(a.x.s.n, -0)).toBe(true);
    expect(Object.is(b.x.s.n, 0)).toBe(true);
    expect(b.x.s).not.toBe(a.x.s);
    expect(b.x.d).not.toBe(a.x.d);
    expect(b.x.big.list).not.toBe(a.x.big.list);
    // The control: the same parts without -0 are shared.
    const c = { x: part(0) };
    shareParts(c, table);
    expect(c.x.s).toBe(b.x.s);
  });

  test("shares a part of shared parts however long its JSON (four conditions: ~700 characters)", () => {
    const table = new PartTable();
    const conditions = (): object[] =>
      ["Approved", "Granted", "Reconciling", "Stalled"].map((type) => ({
        type,
        status: "True",
        reason: `${type}Reason`,
        message: `a message of about forty characters for ${type}`,
        lastTransitionTime: "2026-01-01T00:00:00.000Z",
        observedGeneration: 1,
      }));
    const a = { status: { conditions: conditions() } };
    const b = { status: { conditions: conditions() } };
    expect(JSON.stringify(a.status.conditions).length).toBeGreaterThan(512);
    shareParts(a, table);
    shareParts(b, table);
    expect(b.status.conditions).toBe(a.status.conditions);
    // One entry differs: not the same part, and the equal entries are still shared.
    const c = { status: { conditions: conditions() } };
    (c.status.conditions[3] as { status: string }).status = "False";
    shareParts(c, table);
    expect(c.status.conditions).not.toBe(a.status.conditions);
    expect(c.status.conditions[0]).toBe(a.status.conditions[0]);
    expect(c.status.conditions[3]).toEqual({ ...a.status.conditions[3], status: "False" });
  });

  test("tells an array from an object with the same entries, and a string from a part", () => {
    const table = new PartTable();
    const a = { x: { list: ["p"], same: { 0: "p" } } };
    shareParts(a, table);
    expect(a.x.same).not.toBe(a.x.list);
    const b = { x: { wrap: { v: ["p"] } } };
    const c = { x: { wrap: { v: '{"part":0}' } } };
    shareParts(b, table);
    shareParts(c, table);
    expect(c.x.wrap).not.toBe(b.x.wrap);
    expect(c.x.wrap.v).toBe('{"part":0}');
  });

  test("never shares a part holding NaN or an infinity (JSON would call them null)", () => {
    const table = new PartTable();
    const a = { x: { n: { v: null } } };
    const b = { x: { n: { v: Number.NaN } } };
    const c = { x: { n: { v: Number.POSITIVE_INFINITY } } };
    for (const o of [a, b, c]) shareParts(o, table);
    expect(b.x.n).not.toBe(a.x.n);
    expect(Number.isNaN(b.x.n.v)).toBe(true);
    expect(c.x.n.v).toBe(Number.POSITIVE_INFINITY);
  });

  test("starts over when full, and names a bad option", () => {
    const table = new PartTable({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) {
      shareParts({ x: { v: [i] } }, table);
      expect(table.size).toBeLessThanOrEqual(3);
    }
    expect(() => new PartTable({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
