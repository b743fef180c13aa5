import { describe, expect, test } from "@jest/globals";
import { drawFault } from "../../../src/emulator/faults.ts";
import { foreignEdit } from "../../../src/emulator/foreign-writer.ts";
import type { RuleInput } from "../../../src/emulator/nsg-model.ts";
import { Throttle } from "../../../src/emulator/throttle.ts";

describe("token buckets", () => {
  test("burst, then refill at the per-second rate, per subscription and per kind", () => {
    let now = 0;
    const t = new Throttle({ readBurst: 2, readPerSec: 1, writeBurst: 1, writePerSec: 0.5 }, () => now);
    expect(t.admit("s1", false).retryAfterSec).toBe(0);
    expect(t.admit("s1", false).retryAfterSec).toBe(0);
    expect(t.admit("s1", false).retryAfterSec).toBe(1);
    expect(t.admit("s2", false).retryAfterSec).toBe(0);
    expect(t.admit("s1", true).retryAfterSec).toBe(0);
    expect(t.admit("s1", true).retryAfterSec).toBe(2);
    now = 1000;
    expect(t.admit("s1", false)).toMatchObject({ retryAfterSec: 0, remainingReads: 0 });
    now = 3000;
    expect(t.admit("S1", true).retryAfterSec).toBe(0);
  });

  test("disabled throttling admits everything", () => {
    const t = new Throttle(undefined);
    for (let i = 0; i < 1000; i++) expect(t.admit("s", true).retryAfterSec).toBe(0);
  });
});

describe("fault draws", () => {
  test("rates are cumulative in a fixed order and 0 means never", () => {
    const f = { rateDrop: 0.1, rateTimeout: 0.1, rate429: 0.1, rate500: 0.1, rate503: 0.1 };
    expect([0.05, 0.15, 0.25, 0.35, 0.45, 0.55].map((r) => drawFault(f, () => r))).toEqual([
      "drop",
      "timeout",
      "429",
      "500",
      "503",
      undefined,
    ]);
    expect(drawFault({}, () => 0)).toBeUndefined();
  });
});

describe("foreign writer edits", () => {
  const own: RuleInput = { name: "allow-https", properties: { priority: 300, direction: "Inbound" } };

  test("never touches other rules and stays within 2000..2999", () => {
    let seed = 1;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    let rules: RuleInput[] = [
      own,
      { name: "drawbridge-x", properties: { priority: 100, direction: "Inbound" } },
    ];
    for (let i = 0; i < 200; i++) {
      rules = foreignEdit(rules, random) ?? rules;
      expect(rules.slice(0, 2)).toEqual([own, expect.objectContaining({ name: "drawbridge-x" })]);
      for (const r of rules.slice(2)) {
        expect(r.name.startsWith("foreign-writer-")).toBe(true);
        expect(Number(r.properties["priority"])).toBeGreaterThanOrEqual(2000);
        expect(Number(r.properties["priority"])).toBeLessThanOrEqual(2999);
      }
      const priorities = rules.map((r) => r.properties["priority"]);
      expect(new Set(priorities).size).toBe(priorities.length);
    }
  });
});
