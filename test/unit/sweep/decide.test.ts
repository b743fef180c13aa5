// The sweep's decision, rule by rule: only an Inbound Allow rule of the sweeping instance whose
// description states (in drawbridge's own format) an expiry older than now minus the grace.
import { describe, expect, it } from "@jest/globals";
import { allowRuleDescription, allowRuleName, denyRuleName } from "../../../src/core/names.ts";
import type { SecurityRule } from "../../../src/core/nsg.ts";
import { sweepNsg, sweepVerdict } from "../../../src/sweep/decide.ts";

const VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1";
const KEY = "team-a/web";
const NOW = Date.parse("2026-12-03T12:00:00Z");
const PAST = new Date(NOW - 120_000);

function allow(
  name: string,
  description: string | undefined,
  extra: Partial<SecurityRule> = {},
): SecurityRule {
  return {
    name,
    priority: 100,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    ...(description === undefined ? {} : { description }),
    sourceAddressPrefix: "203.0.113.7/32",
    sourcePortRange: "*",
    destinationAddressPrefix: "10.0.1.4",
    destinationPortRange: "22",
    ...extra,
  };
}

const own = allowRuleName(KEY, VM, "TCP", 22);
const lapsedText = allowRuleDescription(KEY, VM, "TCP", 22, 1, PAST);

describe("sweepVerdict", () => {
  it("calls an own allow rule lapsed once its expiry plus the grace has passed", () => {
    expect(sweepVerdict(allow(own, lapsedText), "", NOW, 60_000)).toEqual({
      kind: "lapsed",
      expiresAt: PAST,
    });
    expect(sweepVerdict(allow(own, lapsedText), "", NOW, 120_000)).toEqual({ kind: "live", expiresAt: PAST });
    expect(sweepVerdict(allow(own, lapsedText), "", NOW, 119_999)).toMatchObject({ kind: "lapsed" });
    const future = allowRuleDescription(KEY, VM, "TCP", 22, 1, new Date(NOW + 1000));
    expect(sweepVerdict(allow(own, future), "", NOW, 0)).toMatchObject({ kind: "live" });
  });

  it("owns names in any letter case, as ARM compares them", () => {
    expect(sweepVerdict(allow(own.toUpperCase(), lapsedText), "", NOW, 0)).toMatchObject({ kind: "lapsed" });
  });

  it.each([
    ["a foreign rule with a drawbridge description", allow("ops-ssh", lapsedText)],
    ["a rule named like drawbridge's but not quite", allow(`x${own}`, lapsedText)],
    ["another instance's rule", allow(allowRuleName(KEY, VM, "TCP", 22, "blue"), lapsedText)],
    ["a baseline deny", allow(denyRuleName(KEY, VM, "TCP"), lapsedText, { access: "Deny" })],
    ["an own allow edited into a deny", allow(own, lapsedText, { access: "Deny" })],
    ["an Outbound rule", allow(own, lapsedText, { direction: "Outbound" })],
  ])("skips %s", (_what, rule) => {
    expect(sweepVerdict(rule, "", NOW, 0)).toEqual({ kind: "skip" });
  });

  it.each([
    ["no description", undefined],
    ["an older description without expiry", "drawbridge JIT allow 22/TCP, 1 source(s), policy p, target t"],
    ["another instance's description", allowRuleDescription(KEY, VM, "TCP", 22, 1, PAST, "blue")],
    ["a hand-edited one", "temporary access until 2020-01-01T00:00:00Z"],
  ])("leaves an own allow rule with %s alone, as unreadable", (_what, description) => {
    expect(sweepVerdict(allow(own, description), "", NOW, 0)).toEqual({ kind: "unreadable" });
  });

  it("reads a named instance's own rules with that instance's head", () => {
    const name = allowRuleName(KEY, VM, "TCP", 22, "blue");
    const text = allowRuleDescription(KEY, VM, "TCP", 22, 1, PAST, "blue");
    expect(sweepVerdict(allow(name, text), "blue", NOW, 0)).toMatchObject({ kind: "lapsed" });
    expect(sweepVerdict(allow(own, lapsedText), "blue", NOW, 0)).toEqual({ kind: "skip" });
  });
});

describe("sweepNsg", () => {
  it("counts what it looked at and lists the lapsed and the unreadable", () => {
    const live = allowRuleName(KEY, VM, "TCP", 80);
    const old = allowRuleName(KEY, VM, "TCP", 443);
    const result = sweepNsg(
      {
        id: "nsg",
        securityRules: [
          allow(own, lapsedText),
          allow(live, allowRuleDescription(KEY, VM, "TCP", 80, 1, new Date(NOW + 60_000))),
          allow(old, "drawbridge JIT allow 443/TCP, 1 source(s)"),
          allow("ops-ssh", lapsedText),
          allow(denyRuleName(KEY, VM, "TCP"), lapsedText, { access: "Deny" }),
        ],
      },
      "",
      NOW,
      60_000,
    );
    expect(result.scanned).toBe(3);
    expect(result.lapsed.map((l) => l.rule.name)).toEqual([own]);
    expect(result.unreadable).toEqual([old]);
  });
});
