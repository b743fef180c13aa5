import { describe, expect, it } from "@jest/globals";
import { isManagedRule } from "./nsg.ts";

describe("isManagedRule", () => {
  it("owns only rules named with the drawbridge- prefix", () => {
    expect(isManagedRule({ name: "drawbridge-allow-x" })).toBe(true);
    expect(isManagedRule({ name: "allow-ssh" })).toBe(false);
    expect(isManagedRule({ name: "Drawbridge-x" })).toBe(false);
  });
});
