import { describe, expect, it } from "@jest/globals";
import {
  instanceRulePrefix,
  isManagedRule,
  isValidInstanceId,
  startsWithFolded,
} from "../../../src/core/nsg.ts";
import { isOwnRule } from "../../../src/core/rule-grammar.ts";

describe("isManagedRule", () => {
  it("recognises the rules of any drawbridge instance, in any letter case (ARM names are case-insensitive)", () => {
    expect(isManagedRule({ name: "drawbridge-allow-x" })).toBe(true);
    expect(isManagedRule({ name: "Drawbridge-x" })).toBe(true);
    expect(isManagedRule({ name: "drawbridge.b-x" })).toBe(true);
    expect(isManagedRule({ name: "DRAWBRIDGE.B7-x" })).toBe(true);
    expect(isManagedRule({ name: "allow-ssh" })).toBe(false);
    expect(isManagedRule({ name: "drawbridge_lookalike" })).toBe(false);
    expect(isManagedRule({ name: "drawbridge.-x" })).toBe(false);
    expect(isManagedRule({ name: "drawbridge.a_b-x" })).toBe(false);
    expect(isManagedRule({ name: "drawbridge.abcdefghijklm-x" })).toBe(false);
    expect(isManagedRule({ name: "drawbridge" })).toBe(false);
  });
});

describe("isOwnRule", () => {
  const h16 = "0123456789abcdef";
  const h8 = "89abcdef";
  it("gives each instance only the rules of its own prefix", () => {
    expect(isOwnRule({ name: `drawbridge-team-a-web-${h16}-tcp-22` }, "")).toBe(true);
    expect(isOwnRule({ name: `Drawbridge-team-a-web-${h16}-TCP-22` }, "")).toBe(true);
    expect(isOwnRule({ name: `drawbridge.b-team-a-web-${h16}-tcp-22` }, "")).toBe(false);
    expect(isOwnRule({ name: `DRAWBRIDGE.b-team-a-web-${h16}-deny-any` }, "b")).toBe(true);
    expect(isOwnRule({ name: `drawbridge.B-team-a-web-${h16}-udp-53` }, "b")).toBe(true);
    expect(isOwnRule({ name: `drawbridge.bc-team-a-web-${h16}-tcp-22` }, "b")).toBe(false);
    expect(isOwnRule({ name: `drawbridge.b-team-a-web-${h16}-tcp-22` }, "bc")).toBe(false);
    expect(isOwnRule({ name: `drawbridge-team-a-web-${h16}-tcp-22` }, "b")).toBe(false);
    expect(isOwnRule({ name: "foreign" }, "b")).toBe(false);
  });

  it("reads names of the legacy 8-digit hash as own, so an upgrade replaces them", () => {
    expect(isOwnRule({ name: `drawbridge-team-a-web-admin-${h8}-tcp-22` }, "")).toBe(true);
    expect(isOwnRule({ name: `drawbridge-team-a-web-admin-${h8}-deny-tcp` }, "")).toBe(true);
    expect(isOwnRule({ name: `drawbridge.b-team-a-web-${h8}-deny-tcp` }, "b")).toBe(true);
  });

  it("leaves a person's Drawbridge-x rule alone: only names the planner could build are own", () => {
    for (const name of [
      "drawbridge-x",
      "Drawbridge-x",
      "Drawbridge-admin-ssh",
      "DRAWBRIDGE-ADMIN-TCP-22",
      `drawbridge-team-${h16}-tcp-65536`,
      `drawbridge-team-${h16}-tcp-022`,
      `drawbridge-team-${h16}-sctp-22`,
      `drawbridge-team-${h16}-deny-icmp`,
      `drawbridge-team-${h16.slice(1)}-tcp-22`,
      `drawbridge-team-${h16}0-tcp-22`,
      "drawbridge-team-0123456789abcdeg-tcp-22",
      `drawbridge--${h16}-tcp-22`,
      `drawbridge-${"s".repeat(43)}-${h16}-tcp-22`,
      `drawbridge-${"s".repeat(49)}-${h8}-tcp-22`,
      `drawbridge-team a-${h16}-tcp-22`,
      `drawbridge-team-${h16}-tcp22`,
      `drawbridge-team-${h16}tcp-22`,
    ]) {
      expect({ name, own: isOwnRule({ name }, "") }).toEqual({ name, own: false });
    }
    expect(isOwnRule({ name: `drawbridge-${"s".repeat(42)}-${h16}-tcp-22` }, "")).toBe(true);
    expect(isOwnRule({ name: `drawbridge-${"s".repeat(48)}-${h8}-tcp-22` }, "")).toBe(true);
  });

  it("folds only letters: a control character is no dash", () => {
    expect(startsWithFolded("drawbridge\r", "drawbridge-")).toBe(false);
    expect(startsWithFolded("DrawBridge-", "drawbridge-")).toBe(true);
    expect(startsWithFolded("draw", "drawbridge-")).toBe(false);
  });
});

describe("instance ids", () => {
  it.each([
    ["", true],
    ["a", true],
    ["b7", true],
    ["abcdefghijkl", true],
    ["abcdefghijklm", false],
    ["A", false],
    ["a-b", false],
    ["a.b", false],
    ["a_b", false],
  ])("isValidInstanceId(%j) = %s", (id, ok) => {
    expect(isValidInstanceId(id)).toBe(ok);
  });

  it("names the prefix of each instance and refuses an invalid id", () => {
    expect(instanceRulePrefix("")).toBe("drawbridge-");
    expect(instanceRulePrefix("b")).toBe("drawbridge.b-");
    expect(() => instanceRulePrefix("a-b")).toThrow(/instance id "a-b" is invalid.*1\.\.12/);
  });
});
