// The index of observed rules files a managed rule by the low 32 bits of the hash in its name; a
// name with any non-hex digit in its 16-digit hash is no built name and matches no binding.
import { describe, expect, it } from "@jest/globals";
import { newLivingIndex } from "../../../src/core/living.ts";
import { bindingHash, bindingHashOfLower, bindingRulePrefix, hashLow32 } from "../../../src/core/names.ts";
import type { SecurityRule } from "../../../src/core/nsg.ts";

const POLICY = "team-a/ssh";
const TARGET = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n1";

function rule(name: string): SecurityRule {
  return {
    name,
    priority: 200,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: "198.51.100.7/32",
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    destinationPortRange: "22",
  };
}

describe("living index", () => {
  const prefix = bindingRulePrefix(POLICY, TARGET);
  const hash = bindingHash(POLICY, TARGET);

  it("files a built name under the low 32 bits of its hash, in either letter case", () => {
    const upper = prefix.replace(hash, hash.toUpperCase());
    const index = newLivingIndex([rule(`${prefix}tcp-22`), rule(`${upper}tcp-22`)]);
    expect(index.hashes[0]).toBe(hashLow32(hash));
    expect(index.hashes[1]).toBe(hashLow32(hash));
    expect(index.keys[0]).toBe(index.keys[1]);
    expect(index.keys[0]).toBeGreaterThanOrEqual(0);
  });

  it.each([0, 7, 8, 15])("does not parse a name whose hash digit %i is not hex", (digit) => {
    const at = prefix.length - 17 + digit;
    const broken = `${prefix.slice(0, at)}g${prefix.slice(at + 1)}tcp-22`;
    const index = newLivingIndex([rule(broken)]);
    expect(index.keys[0]).toBeLessThan(-1 - 3);
  });

  it("answers the same hash from the memo as computed fresh", () => {
    const lower = TARGET.toLowerCase();
    const first = bindingHashOfLower(POLICY, lower);
    expect(bindingHashOfLower(POLICY, lower)).toBe(first);
    expect(bindingHashOfLower(`${POLICY}x`, lower)).not.toBe(first);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
  });
});
