import { describe, expect, it } from "@jest/globals";
import { isOlder } from "../../../src/runtime/informer.ts";

describe("isOlder (resourceVersion order)", () => {
  it("orders decimal revisions numerically, not as text", () => {
    expect(isOlder("9", "10")).toBe(true);
    expect(isOlder("10", "9")).toBe(false);
    expect(isOlder("123", "124")).toBe(true);
    expect(isOlder("124", "124")).toBe(false);
  });

  it("treats what it cannot compare as not older", () => {
    expect(isOlder(undefined, "5")).toBe(false);
    expect(isOlder("5", undefined)).toBe(false);
    expect(isOlder("abc", "5")).toBe(false);
    expect(isOlder("5", "x9")).toBe(false);
  });
});
