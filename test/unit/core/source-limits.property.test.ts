// Property tests of the source limits: no request accepted is wider than its port's minimum (under
// the defaults: /24 and /48), and approving requests one by one against the union check never lets
// one allow rule carry more addresses than its bound, nor refuses a request that would have fitted.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { AccessRequest, JitPolicy, PolicyPort } from "../../../src/api/types.ts";
import { activeGrants, parsePrefix, validatePolicySpec, validateRequest } from "../../../src/core/index.ts";
import type { Grant } from "../../../src/core/index.ts";
import { prefixAddressCount, unionAddressCount } from "../../../src/core/cidr.ts";
import { sourceLimits } from "../../../src/core/source-limits.ts";
import { sourceUnionIssue } from "../../../src/core/source-union.ts";

const numRuns = process.env["CI"] ? 3000 : 300;
const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers";
const VM = `${SUB}/Microsoft.Compute/virtualMachines/web-1`;
const JUMP = `${SUB}/Microsoft.Network/networkSecurityGroups/jump-nsg`;
const NOW = new Date("2026-11-25T12:30:00Z");

function policy(rdp: Partial<PolicyPort>): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { namespace: "team-a", name: "web-admin" },
    spec: {
      targets: [
        { virtualMachineId: VM },
        { networkSecurityGroupId: JUMP, destinationAddressPrefixes: ["10.0.2.4/32", "2001:db8:2::4/128"] },
      ],
      ports: [{ number: 3389, protocol: "TCP", maxDuration: "PT1H", ...rdp }],
      priorityRange: { from: 100, to: 199 },
      nsgScope: "All",
    },
  };
}

function request(name: string, source: string, targets?: string[]): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { namespace: "team-a", name },
    spec: {
      policyName: "web-admin",
      ports: [3389],
      sourceAddressPrefix: source,
      duration: "PT1H",
      justification: "INC-1",
      requester: "alice",
      ...(targets === undefined ? {} : { targets }),
    },
  };
}

/** The network of a random address at a random length (host bits cleared). */
function network(bytes: number[], bits: number): string {
  const masked = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  if (masked.length === 4) return `${masked.join(".")}/${bits}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((masked[i] ?? 0) << 8) | (masked[i + 1] ?? 0)).toString(16));
  return parsePrefix(`${groups.join(":")}/${bits}`).ok ? `${groups.join(":")}/${bits}` : "::/128";
}

const v4 = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
    fc.integer({ min: 0, max: 32 }),
  )
  .map(([b, bits]) => network(b, bits));
const v6 = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }),
    fc.integer({ min: 0, max: 128 }),
  )
  .map(([b, bits]) => network(b, bits));
/** A valid minimumSourcePrefixLength: one family or both (an empty object is refused). */
const lengths = fc.oneof(
  fc.record({ ipv4: fc.integer({ min: 8, max: 32 }) }),
  fc.record({ ipv6: fc.integer({ min: 16, max: 128 }) }),
  fc.record({ ipv4: fc.integer({ min: 8, max: 32 }), ipv6: fc.integer({ min: 16, max: 128 }) }),
);

describe("minimumSourcePrefixLength", () => {
  it("accepts no source wider than /24 (IPv4) or /48 (IPv6) under the defaults", () => {
    fc.assert(
      fc.property(fc.oneof(v4, v6), (source) => {
        const verdict = validateRequest(request("r", source, [VM]), policy({}));
        if (!verdict.allowed) return;
        const p = parsePrefix(source);
        if (!p.ok) throw new Error(`allowed an unparsable ${source}`);
        if (p.prefix.bits === 0) throw new Error(`allowed the unlisted wildcard ${source}`);
        expect(p.prefix.bits).toBeGreaterThanOrEqual(p.prefix.family === "IPv4" ? 24 : 48);
      }),
      { numRuns },
    );
  });

  it("accepts a specific source exactly when it is no wider than the port's minimum", () => {
    fc.assert(
      fc.property(fc.oneof(v4, v6), lengths, (source, minimum) => {
        const pol = policy({ minimumSourcePrefixLength: minimum });
        const p = parsePrefix(source);
        if (!p.ok || p.prefix.bits === 0) return;
        const limit = sourceLimits(pol.spec.ports[0]!, p.prefix.family).minimum;
        expect(validatePolicySpec(pol.spec)).toEqual([]);
        const verdict = validateRequest(request("r", source, [VM]), pol);
        expect([source, limit, verdict.allowed]).toEqual([source, limit, p.prefix.bits >= limit]);
        // Never wider than the bounds, whatever the policy says.
        if (verdict.allowed)
          expect(p.prefix.bits).toBeGreaterThanOrEqual(p.prefix.family === "IPv4" ? 8 : 16);
      }),
      { numRuns },
    );
  });
});

describe("sourceUnionPrefixLength", () => {
  /** IPv4 sources in a small space (10.0.0.0/20), /24 to /32, so unions collide and fill up. */
  const small = fc
    .tuple(
      fc.integer({ min: 0, max: 15 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 24, max: 32 }),
    )
    .map(([c, d, bits]) => network([10, 0, c, d], bits));
  const step = fc.record({ source: small, target: fc.constantFrom<string | undefined>(VM, JUMP, undefined) });

  it("never lets one rule carry more than the bound, and refuses only what would cross it", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 20, max: 24 }), (steps, union) => {
        const pol = policy({ sourceUnionPrefixLength: { ipv4: union } });
        const cap = prefixAddressCount("IPv4", union);
        const approved: AccessRequest[] = [];
        let grants: Grant[] = [];
        steps.forEach((s, i) => {
          const req = request(`r${i}`, s.source, s.target === undefined ? undefined : [s.target]);
          expect(validateRequest(req, pol)).toEqual({ allowed: true });
          const issue = sourceUnionIssue(req, pol, grants);
          const status = { phase: "Active" as const, startTime: "2026-11-25T12:00:00Z" };
          const mine = activeGrants([pol], [{ ...req, status }], NOW).grants;
          // Denied exactly when one of its rules would pass the cap.
          const crosses = mine.some(
            (g) =>
              unionAddressCount(
                [
                  ...grants.filter((o) => o.targetId === g.targetId).map((o) => o.sourcePrefix),
                  g.sourcePrefix,
                ],
                "IPv4",
              ) > cap,
          );
          expect([s, issue !== undefined]).toEqual([s, crosses]);
          if (issue !== undefined) return;
          approved.push({ ...req, status });
          grants = activeGrants([pol], approved, NOW).grants;
        });
        for (const target of [VM, JUMP]) {
          const carried = grants.filter((g) => g.targetId === target).map((g) => g.sourcePrefix);
          expect(unionAddressCount(carried, "IPv4") <= cap).toBe(true);
        }
      }),
      { numRuns },
    );
  });

  it("counts a union as the brute-force set of addresses does", () => {
    fc.assert(
      fc.property(fc.array(small, { maxLength: 12 }), (prefixes) => {
        const seen = new Set<number>();
        for (const text of prefixes) {
          const p = parsePrefix(text);
          if (!p.ok) throw new Error(text);
          const [, , c = 0, d = 0] = p.prefix.bytes;
          const start = c * 256 + d;
          for (let a = start; a < start + 2 ** (32 - p.prefix.bits); a++) seen.add(a);
        }
        expect(unionAddressCount(prefixes, "IPv4")).toBe(BigInt(seen.size));
      }),
      { numRuns },
    );
  });
});
