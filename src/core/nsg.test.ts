import { describe, expect, it } from "@jest/globals";
import { instanceRulePrefix, isManagedRule, isOwnRule, isValidInstanceId, startsWithFolded } from "./nsg.ts";

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
  it("gives each instance only the rules of its own prefix", () => {
    expect(isOwnRule({ name: "drawbridge-x" }, "")).toBe(true);
    expect(isOwnRule({ name: "Drawbridge-x" }, "")).toBe(true);
    expect(isOwnRule({ name: "drawbridge.b-x" }, "")).toBe(false);
    expect(isOwnRule({ name: "DRAWBRIDGE.b-x" }, "b")).toBe(true);
    expect(isOwnRule({ name: "drawbridge.B-x" }, "b")).toBe(true);
    expect(isOwnRule({ name: "drawbridge.bc-x" }, "b")).toBe(false);
    expect(isOwnRule({ name: "drawbridge.b-x" }, "bc")).toBe(false);
    expect(isOwnRule({ name: "drawbridge-x" }, "b")).toBe(false);
    expect(isOwnRule({ name: "foreign" }, "b")).toBe(false);
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
