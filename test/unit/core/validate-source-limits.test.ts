// How wide one request's source may be (minimumSourcePrefixLength) and how many addresses one allow
// rule may carry (sourceUnionPrefixLength): requests, grants, policies and the union arithmetic.
import { describe, expect, it } from "@jest/globals";
import type { AccessRequest, JitPolicy, PolicyPort } from "../../../src/api/types.ts";
import {
  activeGrants,
  validatePolicySpec,
  validateRequest,
  validateRequestSpec,
} from "../../../src/core/index.ts";
import type { Grant } from "../../../src/core/index.ts";
import { unionAddressCount } from "../../../src/core/cidr.ts";
import { sourceLimits } from "../../../src/core/source-limits.ts";
import { sourceUnionIssue } from "../../../src/core/source-union.ts";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers";
const VM = `${SUB}/Microsoft.Compute/virtualMachines/web-1`;
const JUMP = `${SUB}/Microsoft.Network/networkSecurityGroups/jump-nsg`;
const NOW = new Date("2026-11-25T12:30:00Z");

/** The example policy; `rdp` changes port 3389 (which lists no sources). */
function policy(rdp: Partial<PolicyPort> = {}, jumpDestinations = ["10.0.2.4/32"]): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { namespace: "team-a", name: "web-admin" },
    spec: {
      targets: [
        { virtualMachineId: VM },
        { networkSecurityGroupId: JUMP, destinationAddressPrefixes: jumpDestinations },
      ],
      ports: [
        {
          number: 22,
          protocol: "TCP",
          allowedSourceAddressPrefixes: ["203.0.113.0/24"],
          maxDuration: "PT3H",
        },
        { number: 3389, protocol: "TCP", maxDuration: "PT1H", ...rdp },
      ],
      priorityRange: { from: 100, to: 199 },
      nsgScope: "All",
    },
  };
}

function request(source: string, more: Partial<AccessRequest["spec"]> = {}, name = "alice-1"): AccessRequest {
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
      ...more,
    },
  };
}

function grant(source: string, targetId = VM, requestKey = "team-a/peer"): Grant {
  return {
    requestKey,
    policyKey: "team-a/web-admin",
    targetId,
    port: 3389,
    protocol: "TCP",
    sourcePrefix: source,
    expiresAt: new Date(NOW.getTime() + 3_600_000),
  };
}

describe("minimumSourcePrefixLength on requests", () => {
  it.each(["0.0.0.0/1", "128.0.0.0/1", "2.0.0.0/7", "::/1", "8000::/1", "2000::/15"])(
    "refuses %s before any policy is read (shorter than /8 or /16)",
    (source) => {
      const issues = validateRequestSpec(request(source).spec);
      expect(issues).toHaveLength(1);
      expect(issues[0]?.reason).toBe("SourcePrefixTooWide");
      expect(issues[0]?.field).toBe("spec.sourceAddressPrefix");
      expect(issues[0]?.message).toContain(source);
      const verdict = validateRequest(request(source), policy());
      expect(verdict.allowed ? "" : verdict.reason).toBe("SourcePrefixTooWide");
    },
  );

  it("keeps /8 and /16 (the widest a policy may allow) and /0 wildcards for the policy to decide", () => {
    for (const s of ["10.0.0.0/8", "2001::/16", "0.0.0.0/0", "::/0"]) {
      expect([s, validateRequestSpec(request(s).spec)]).toEqual([s, []]);
    }
  });

  it("denies a source wider than /24 on a port that lists none, naming the field, family, limit and fix", () => {
    const verdict = validateRequest(request("198.51.100.0/23"), policy());
    if (verdict.allowed) throw new Error("allowed");
    expect(verdict.reason).toBe("SourcePrefixTooWide");
    expect(verdict.field).toBe("spec.sourceAddressPrefix");
    expect(verdict.message).toContain("IPv4 /23");
    expect(verdict.message).toContain("/24");
    expect(verdict.message).toContain("port 3389/TCP in policy web-admin");
    expect(verdict.message).toContain("minimumSourcePrefixLength.ipv4");
    expect(validateRequest(request("198.51.100.0/24"), policy())).toEqual({ allowed: true });
    expect(validateRequest(request("198.51.100.7/32"), policy())).toEqual({ allowed: true });
  });

  it("denies an IPv6 source wider than /48 by default", () => {
    const dual = policy({}, ["10.0.2.4/32", "2001:db8:2::4/128"]);
    const verdict = validateRequest(request("2001:db8::/47"), dual);
    expect(verdict.allowed ? "" : verdict.reason).toBe("SourcePrefixTooWide");
    expect(verdict.allowed ? "" : verdict.message).toContain("minimumSourcePrefixLength.ipv6");
    expect(validateRequest(request("2001:db8::/48"), dual)).toEqual({ allowed: true });
  });

  it("lets a port widen the minimum explicitly, per family, and no further", () => {
    const wide = policy({ minimumSourcePrefixLength: { ipv4: 16 } });
    expect(validatePolicySpec(wide.spec)).toEqual([]);
    expect(validateRequest(request("198.51.0.0/16"), wide)).toEqual({ allowed: true });
    const verdict = validateRequest(request("198.50.0.0/15"), wide);
    expect(verdict.allowed ? "" : verdict.reason).toBe("SourcePrefixTooWide");
    // Widening IPv4 leaves IPv6 at its default.
    expect(sourceLimits(wide.spec.ports[1]!, "IPv6")).toEqual({ minimum: 48, union: 44 });
  });

  it("applies inside listed prefixes too: the list says where, the minimum how wide", () => {
    const listed = policy({ allowedSourceAddressPrefixes: ["198.51.0.0/16"] });
    const verdict = validateRequest(request("198.51.0.0/16"), listed);
    expect(verdict.allowed ? "" : verdict.reason).toBe("SourcePrefixTooWide");
    expect(validateRequest(request("198.51.7.0/24"), listed)).toEqual({ allowed: true });
    // Outside the list is still SourceNotAllowed, whatever its width.
    const outside = validateRequest(request("203.0.0.0/16", { ports: [22] }), listed);
    expect(outside.allowed ? "" : outside.reason).toBe("SourceNotAllowed");
  });

  it("leaves a wildcard the port lists exactly to its own rule", () => {
    const open = policy({ allowedSourceAddressPrefixes: ["0.0.0.0/0"] });
    expect(validateRequest(request("0.0.0.0/0"), open)).toEqual({ allowed: true });
    const star = policy({ allowedSourceAddressPrefixes: ["*"] });
    const verdict = validateRequest(request("10.0.0.0/8"), star);
    expect(verdict.allowed ? "" : verdict.reason).toBe("SourcePrefixTooWide");
  });

  it("closes an approved grant wider than the policy allows now", () => {
    const approved = {
      ...request("198.51.0.0/16"),
      status: { phase: "Active" as const, startTime: "2026-11-25T12:00:00Z" },
    };
    expect(activeGrants([policy()], [approved], NOW).grants).toEqual([]);
    const wide = policy({ minimumSourcePrefixLength: { ipv4: 16 } });
    expect(activeGrants([wide], [approved], NOW).grants).toHaveLength(2);
  });
});

describe("the port's source limit fields", () => {
  const issuesOf = (rdp: Partial<PolicyPort>): [string, string][] =>
    validatePolicySpec(policy(rdp).spec).map((i) => [i.reason, i.field]);

  it("accepts the bounds and refuses past them, naming the field", () => {
    expect(issuesOf({ minimumSourcePrefixLength: { ipv4: 8, ipv6: 16 } })).toEqual([]);
    expect(issuesOf({ minimumSourcePrefixLength: { ipv4: 32, ipv6: 128 } })).toEqual([]);
    const F = "spec.ports[1].minimumSourcePrefixLength";
    expect(issuesOf({ minimumSourcePrefixLength: { ipv4: 0 } })).toEqual([
      ["InvalidSourcePrefixLength", `${F}.ipv4`],
    ]);
    expect(issuesOf({ minimumSourcePrefixLength: { ipv4: 7 } })).toEqual([
      ["InvalidSourcePrefixLength", `${F}.ipv4`],
    ]);
    expect(issuesOf({ minimumSourcePrefixLength: { ipv6: 15 } })).toEqual([
      ["InvalidSourcePrefixLength", `${F}.ipv6`],
    ]);
    expect(issuesOf({ minimumSourcePrefixLength: { ipv4: 24.5 } })).toEqual([
      ["InvalidSourcePrefixLength", `${F}.ipv4`],
    ]);
    expect(issuesOf({ minimumSourcePrefixLength: {} })).toEqual([["InvalidSourcePrefixLength", F]]);
  });

  it("keeps the union at least as wide as one request of the minimum length", () => {
    const U = "spec.ports[1].sourceUnionPrefixLength";
    expect(issuesOf({ sourceUnionPrefixLength: { ipv4: 24 } })).toEqual([]);
    expect(issuesOf({ sourceUnionPrefixLength: { ipv4: 25 } })).toEqual([
      ["InvalidSourcePrefixLength", `${U}.ipv4`],
    ]);
    expect(
      issuesOf({ minimumSourcePrefixLength: { ipv6: 32 }, sourceUnionPrefixLength: { ipv6: 40 } }),
    ).toEqual([["InvalidSourcePrefixLength", `${U}.ipv6`]]);
    expect(issuesOf({ sourceUnionPrefixLength: { ipv6: 0 } })).toEqual([
      ["InvalidSourcePrefixLength", `${U}.ipv6`],
    ]);
    const msg = validatePolicySpec(policy({ sourceUnionPrefixLength: { ipv4: 25 } }).spec)[0]?.message;
    expect(msg).toContain(`${U}.ipv4 (25)`);
    expect(msg).toContain("minimumSourcePrefixLength.ipv4 (24)");
  });

  it("defaults the union to 16 prefixes of the minimum, never past /8 or /16", () => {
    const port = policy().spec.ports[1]!;
    expect(sourceLimits(port, "IPv4")).toEqual({ minimum: 24, union: 20 });
    expect(sourceLimits(port, "IPv6")).toEqual({ minimum: 48, union: 44 });
    const widest = { ...port, minimumSourcePrefixLength: { ipv4: 8, ipv6: 16 } };
    expect(sourceLimits(widest, "IPv4")).toEqual({ minimum: 8, union: 8 });
    expect(sourceLimits(widest, "IPv6")).toEqual({ minimum: 16, union: 16 });
  });
});

describe("sourceUnionPrefixLength across grants", () => {
  const tight = policy({ sourceUnionPrefixLength: { ipv4: 22 } }); // four /24s per rule
  const slash24 = (i: number): string => `198.51.${100 + i}.0/24`;

  it("denies the grant that would push one rule past the bound, naming the rule and the limit", () => {
    const peers = [0, 1, 2, 3].map((i) => grant(slash24(i)));
    const issue = sourceUnionIssue(request(slash24(4), { targets: [VM] }), tight, peers);
    expect(issue?.reason).toBe("SourceUnionTooWide");
    expect(issue?.field).toBe("spec.sourceAddressPrefix");
    expect(issue?.message).toContain("port 3389/TCP on target web-1");
    expect(issue?.message).toContain("1,280 IPv4 addresses");
    expect(issue?.message).toContain("1,024 (one /22)");
    expect(issue?.message).toContain("sourceUnionPrefixLength.ipv4");
    expect(sourceUnionIssue(request(slash24(4)), tight, peers.slice(0, 3))).toBeUndefined();
  });

  it("counts each rule (target, port, protocol) on its own", () => {
    const peers = [0, 1, 2, 3].map((i) => grant(slash24(i)));
    expect(sourceUnionIssue(request(slash24(4), { targets: [JUMP] }), tight, peers)).toBeUndefined();
    // Without targets the request opens both: the VM's rule is full.
    expect(sourceUnionIssue(request(slash24(4)), tight, peers)?.reason).toBe("SourceUnionTooWide");
    const otherPort = peers.map((g) => ({ ...g, port: 22 }));
    expect(sourceUnionIssue(request(slash24(4)), tight, otherPort)).toBeUndefined();
  });

  it("counts overlaps once, adds nothing for a source already carried, and skips wildcards and the other family", () => {
    const peers = [
      ...[0, 1, 2, 3].map((i) => grant(slash24(i))),
      grant("198.51.100.7/32"),
      grant("*"),
      grant("2001:db8::/48"),
    ];
    expect(sourceUnionIssue(request("198.51.101.9/32"), tight, peers)).toBeUndefined();
    expect(sourceUnionIssue(request("198.51.104.9/32"), tight, peers)?.reason).toBe("SourceUnionTooWide");
  });

  it("leaves the request's own grants out (a re-check never counts it twice)", () => {
    const peers = [0, 1, 2].map((i) => grant(slash24(i)));
    peers.push(grant(slash24(3), VM, "team-a/alice-1"));
    expect(sourceUnionIssue(request(slash24(3)), tight, peers)).toBeUndefined();
  });

  it("matches target ids case-insensitively, as the policy does", () => {
    const peers = [0, 1, 2, 3].map((i) => grant(slash24(i), VM.toUpperCase()));
    expect(sourceUnionIssue(request(slash24(4), { targets: [VM] }), tight, peers)?.reason).toBe(
      "SourceUnionTooWide",
    );
  });
});

describe("unionAddressCount", () => {
  it("counts nested, equal and disjoint blocks once each", () => {
    expect(unionAddressCount(["10.0.0.0/24", "10.0.0.0/25", "10.0.0.7/32", "10.0.0.0/24"], "IPv4")).toBe(
      256n,
    );
    expect(unionAddressCount(["10.0.0.0/24", "10.0.1.0/24", "10.0.0.0/23"], "IPv4")).toBe(512n);
    expect(unionAddressCount(["10.0.0.0/32", "10.0.0.1/32"], "IPv4")).toBe(2n);
    expect(unionAddressCount([], "IPv4")).toBe(0n);
  });

  it("counts IPv6 beyond 2^53 exactly and keeps families apart", () => {
    expect(unionAddressCount(["2001:db8::/48", "2001:db8:1::/48", "10.0.0.0/8"], "IPv6")).toBe(2n ** 81n);
    expect(unionAddressCount(["::/1", "8000::/1"], "IPv6")).toBe(2n ** 128n);
    expect(unionAddressCount(["0.0.0.0/1", "128.0.0.0/1"], "IPv4")).toBe(2n ** 32n);
  });
});
