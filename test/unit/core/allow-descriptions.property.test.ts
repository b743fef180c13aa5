// The plan's memo of allow descriptions (allow-descriptions.ts) must write exactly what
// allowDescriptionWith writes, for any sequence of calls: ports and counts outside the memo, texts
// clipped at 140 characters, another instance's head, no expiry.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { Protocol } from "../../../src/api/types.ts";
import { allowDescriptions } from "../../../src/core/allow-descriptions.ts";
import { allowDescriptionTail, allowDescriptionWith, descriptionHeads } from "../../../src/core/names.ts";

const numRuns = process.env["CI"] ? 5000 : 500;
const HEADS = [descriptionHeads("").allow, descriptionHeads("a1").allow];
const UNTILS = ["", "2030-01-01T00:00:00Z", "2026-12-03T10:15:01Z"];

const callArb = fc.record({
  tail: fc.oneof(
    fc.tuple(fc.constantFrom("team-a/web", "t/p", "q".repeat(70)), fc.constantFrom("vm-1", "web-2")),
    fc.tuple(fc.string({ maxLength: 90 }), fc.string({ maxLength: 30 })),
  ),
  protocol: fc.constantFrom<Protocol>("TCP", "UDP", "Any", "ICMP" as Protocol),
  // Mostly a few values, so that calls repeat a memo's key with another protocol, head or expiry.
  port: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(22, 443, 0, 65535) },
    fc.integer({ min: -5, max: 70000 }),
    fc.double({ min: -1, max: 1e6 }),
  ),
  sources: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(1, 2, 3) },
    fc.integer({ min: 0, max: 4000 }),
    fc.constantFrom(65535, 65536, 1e9, 1.5),
  ),
  head: fc.nat(),
  until: fc.nat(),
});

describe("allow descriptions of one plan", () => {
  it("are allowDescriptionWith's text for every call of a sequence", () => {
    fc.assert(
      fc.property(fc.array(callArb, { minLength: 1, maxLength: 40 }), (calls) => {
        const describe = allowDescriptions();
        for (const c of calls) {
          const tail = allowDescriptionTail(c.tail[0], c.tail[1]);
          const head = HEADS[c.head % HEADS.length] ?? "";
          const until = UNTILS[c.until % UNTILS.length] ?? "";
          const want = allowDescriptionWith(tail, c.protocol, c.port, c.sources, head, until);
          expect(describe(tail, c.protocol, c.port, c.sources, head, until)).toBe(want);
        }
      }),
      { numRuns },
    );
  });
});
