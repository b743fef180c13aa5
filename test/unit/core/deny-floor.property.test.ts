// A baseline deny indexed from what it was built of (addBaselineDeny) must give the very entry that
// reading the built rule back gives (addDeny), for any ports, protocol and destinations: negative,
// fractional and out-of-range ports included, which are read from the rule's text.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { Protocol } from "../../../src/api/types.ts";
import { addBaselineDeny, addDeny, newDenyFloorIndex } from "../../../src/core/deny-floor.ts";
import { buildDenyRule } from "../../../src/core/rules.ts";
import type { BindingRef } from "../../../src/core/rules.ts";

const numRuns = process.env["CI"] ? 5000 : 500;

const bindingArb = fc.record({
  destinations: fc.array(
    fc.constantFrom("10.0.1.4/32", "10.0.0.0/16", "2001:db8::1/128", "VirtualNetwork", "*", "10.0.1.5/32"),
    { maxLength: 3 },
  ),
});

const portArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 65535 }) },
  fc.integer({ min: -70000, max: 70000 }),
  fc.constantFrom(-0, 1.5, Number.NaN, Infinity, -Infinity, 1e21, -1),
);

describe("addBaselineDeny", () => {
  it("indexes a built deny as addDeny reads it", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            b: bindingArb,
            protocol: fc.constantFrom<Protocol>("TCP", "UDP", "Any", "ICMP" as Protocol),
            ports: fc.array(portArb, { maxLength: 4 }),
          }),
          { maxLength: 4 },
        ),
        (denies) => {
          const fromParts = newDenyFloorIndex();
          const fromRules = newDenyFloorIndex();
          denies.forEach((d, i) => {
            const b: BindingRef = {
              policyKey: "team-a/web",
              targetId: "/x/vm-1",
              destinations: d.b.destinations,
              rulePrefix: "drawbridge-team-a-web-0123456789abcdef-",
              targetName: "vm-1",
              allowTail: "",
              allowHead: "",
              denyHead: "drawbridge JIT baseline deny ",
            };
            const rule = buildDenyRule(b, d.protocol, d.ports, 4000 - i, undefined);
            addBaselineDeny(fromParts, rule, d.protocol, d.ports, b.destinations);
            addDeny(fromRules, rule);
          });
          expect(fromParts).toEqual(fromRules);
          // The same rule objects, in the same places.
          fromParts.all.forEach((e, i) => {
            expect(e.rule).toBe(fromRules.all[i]?.rule);
          });
        },
      ),
      { numRuns },
    );
  });
});
