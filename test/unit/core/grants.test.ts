// activeGrants: which grants must be in NSGs at a given instant (clock passed in).
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type {
  AccessRequest,
  AccessRequestPhase,
  ApprovedGrant,
  JitPolicy,
  Protocol,
} from "../../../src/api/types.ts";
import { approvalSnapshot, narrowerProtocol } from "../../../src/core/grants.ts";
import { activeGrants } from "../../../src/core/index.ts";

const numRuns = process.env["CI"] ? 10000 : 1000;
const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers";
const VM = `${SUB}/Microsoft.Compute/virtualMachines/web-1`;
const JUMP = `${SUB}/Microsoft.Network/networkSecurityGroups/jump-nsg`;
const NOW = new Date("2026-11-25T12:30:00Z");

function policy(ports = [22, 3389]): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { namespace: "team-a", name: "web-admin" },
    spec: {
      targets: [
        { virtualMachineId: VM },
        { networkSecurityGroupId: JUMP, destinationAddressPrefixes: ["10.0.2.4/32"] },
      ],
      ports: [
        {
          number: 22,
          protocol: "TCP",
          allowedSourceAddressPrefixes: ["203.0.113.0/24"],
          maxDuration: "PT3H",
        },
        { number: 3389, protocol: "TCP", maxDuration: "PT1H" },
      ].filter((p) => ports.includes(p.number)) as JitPolicy["spec"]["ports"],
      priorityRange: { from: 100, to: 199 },
      nsgScope: "All",
    },
  };
}

function request(
  overrides: Partial<AccessRequest["spec"]> = {},
  status: AccessRequest["status"] = {},
): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { namespace: "team-a", name: "alice-1" },
    spec: {
      policyName: "web-admin",
      ports: [22],
      sourceAddressPrefix: "203.0.113.7",
      duration: "PT1H",
      justification: "INC-1",
      requester: "alice",
      ...overrides,
    },
    status: { phase: "Active", startTime: "2026-11-25T12:00:00Z", ...status },
  };
}

describe("activeGrants", () => {
  it("expands an approved request per target and port, with a canonical source and expiry", () => {
    const { grants, nextExpiry } = activeGrants([policy()], [request()], NOW);
    expect(grants.map((g) => [g.targetId, g.port, g.protocol, g.sourcePrefix])).toEqual([
      [VM, 22, "TCP", "203.0.113.7/32"],
      [JUMP, 22, "TCP", "203.0.113.7/32"],
    ]);
    expect(grants[0]?.expiresAt.toISOString()).toBe("2026-11-25T13:00:00.000Z");
    expect(nextExpiry?.toISOString()).toBe("2026-11-25T13:00:00.000Z");
  });

  it.each<[string, AccessRequest]>([
    ["not yet approved", request({}, { phase: "Pending", startTime: undefined })],
    ["revoked", request({ revoked: true })],
    [
      "being deleted",
      {
        ...request(),
        metadata: { namespace: "team-a", name: "x", deletionTimestamp: "2026-11-25T12:10:00Z" },
      },
    ],
    ["expired", request({ duration: "PT30M" })],
    ["expired by status.expiresAt", request({}, { expiresAt: "2026-11-25T12:20:00Z" })],
    ["denied", request({}, { phase: "Denied" })],
    ["in another namespace", { ...request(), metadata: { namespace: "team-b", name: "x" } }],
    ["for a port outside the policy", request({ ports: [5985] })],
    ["from a source outside the allowed prefixes", request({ sourceAddressPrefix: "198.51.100.7/32" })],
    [
      "for a target outside the policy",
      request({ targets: [`${SUB}/Microsoft.Compute/virtualMachines/web-2`] }),
    ],
    ["with an unreadable start time", request({}, { startTime: "yesterday" })],
  ])("grants nothing for a request %s", (_why, req) => {
    expect(activeGrants([policy()], [req], NOW)).toEqual({ grants: [], nextExpiry: undefined });
  });

  it("closes grants of a port the current policy dropped, keeping the others", () => {
    const req = request({ ports: [22, 3389] });
    expect(activeGrants([policy()], [req], NOW).grants.map((g) => g.port)).toEqual([22, 3389, 22, 3389]);
    expect(activeGrants([policy([22])], [req], NOW).grants.map((g) => g.port)).toEqual([22, 22]);
  });

  it("never returns an expired, revoked, unapproved or deleted grant (property)", () => {
    const phases: AccessRequestPhase[] = ["Pending", "Active", "Expired", "Revoked", "Denied", "Failed"];
    const reqArb = fc.record({
      phase: fc.constantFrom(...phases),
      started: fc.option(fc.integer({ min: -200, max: 60 }), { nil: undefined }),
      minutes: fc.integer({ min: 1, max: 200 }),
      revoked: fc.boolean(),
      deleting: fc.boolean(),
      port: fc.constantFrom(22, 3389, 80),
      source: fc.constantFrom("203.0.113.7/32", "198.51.100.1/32", "*"),
    });
    fc.assert(
      fc.property(fc.array(reqArb, { maxLength: 6 }), (specs) => {
        const reqs = specs.map((s, i) => {
          const r = request(
            {
              ports: [s.port],
              sourceAddressPrefix: s.source,
              duration: `PT${s.minutes}M`,
              revoked: s.revoked,
            },
            {
              phase: s.phase,
              startTime:
                s.started === undefined
                  ? undefined
                  : new Date(NOW.getTime() + s.started * 60_000).toISOString(),
            },
          );
          r.metadata = {
            namespace: "team-a",
            name: `r-${i}`,
            ...(s.deleting ? { deletionTimestamp: NOW.toISOString() } : {}),
          };
          return r;
        });
        const { grants, nextExpiry } = activeGrants([policy()], reqs, NOW);
        for (const g of grants) {
          const r = reqs.find((x) => `team-a/${x.metadata.name ?? ""}` === g.requestKey);
          if (r === undefined) throw new Error("grant without request");
          if (g.expiresAt.getTime() <= NOW.getTime()) throw new Error("expired grant");
          if (r.spec.revoked === true || r.metadata.deletionTimestamp !== undefined)
            throw new Error("revoked grant");
          if (r.status?.phase !== "Active" && r.status?.phase !== "Pending")
            throw new Error("grant of a finished request");
          if (nextExpiry === undefined || nextExpiry.getTime() > g.expiresAt.getTime())
            throw new Error("bad nextExpiry");
        }
      }),
      { numRuns },
    );
  });
});

describe("grants bound to what was approved (status.approved)", () => {
  const WEB2 = `${SUB}/Microsoft.Compute/virtualMachines/web-2`;
  const snapshot: ApprovedGrant = { targets: [VM, JUMP], ports: [{ number: 22, protocol: "TCP" }] };

  /** The example policy after an edit: web-2 added, port 22's protocol set to `protocol`. */
  function edited(protocol: Protocol = "Any"): JitPolicy {
    const p = policy();
    p.spec.targets = [...p.spec.targets, { virtualMachineId: WEB2 }];
    p.spec.ports = p.spec.ports.map((port) => (port.number === 22 ? { ...port, protocol } : port));
    return p;
  }

  function opened(p: JitPolicy, r: AccessRequest): string[] {
    return activeGrants([p], [r], NOW).grants.map(
      (g) => `${g.targetId.split("/").pop() ?? ""}:${g.port}/${g.protocol}`,
    );
  }

  it("records the targets and per-port protocols the policy gives at approval", () => {
    expect(approvalSnapshot(request({ ports: [22, 3389] }), policy())).toEqual({
      targets: [VM, JUMP],
      ports: [
        { number: 22, protocol: "TCP" },
        { number: 3389, protocol: "TCP" },
      ],
    });
    expect(approvalSnapshot(request({ targets: [JUMP.toUpperCase()] }), policy())?.targets).toEqual([JUMP]);
    expect(approvalSnapshot(request({ targets: [WEB2] }), policy())).toBeUndefined();
  });

  it("opens no target added to the policy after approval, and no wider protocol", () => {
    const r = request({}, { approved: snapshot });
    expect(opened(policy(), r)).toEqual(["web-1:22/TCP", "jump-nsg:22/TCP"]);
    expect(opened(edited("Any"), r)).toEqual(["web-1:22/TCP", "jump-nsg:22/TCP"]);
    // A request approved after the edit gets the edited policy.
    const fresh = request({}, { approved: approvalSnapshot(request(), edited("Any")) });
    expect(opened(edited("Any"), fresh)).toEqual(["web-1:22/Any", "web-2:22/Any", "jump-nsg:22/Any"]);
  });

  it("still closes what the policy drops or narrows after approval", () => {
    const r = request(
      { ports: [22, 3389] },
      { approved: { ...snapshot, ports: [...snapshot.ports, { number: 3389, protocol: "TCP" }] } },
    );
    const dropped = policy([3389]);
    dropped.spec.targets = [{ virtualMachineId: VM }];
    expect(opened(dropped, r)).toEqual(["web-1:3389/TCP"]);
    // TCP approved, the policy now says UDP: nothing in common, the port closes.
    expect(opened(edited("UDP"), request({}, { approved: snapshot }))).toEqual([]);
    // Any approved, the policy now says TCP: TCP only.
    const wide = request({}, { approved: { ...snapshot, ports: [{ number: 22, protocol: "Any" }] } });
    expect(opened(policy(), wide)).toEqual(["web-1:22/TCP", "jump-nsg:22/TCP"]);
  });

  it("keeps today's behaviour for a request approved without the record", () => {
    expect(opened(edited("Any"), request())).toEqual(["web-1:22/Any", "web-2:22/Any", "jump-nsg:22/Any"]);
  });

  it("a forged record never opens beyond the current policy", () => {
    const forged = request(
      {},
      {
        approved: {
          targets: [VM, JUMP, WEB2, `${SUB}/Microsoft.Compute/virtualMachines/db-1`],
          ports: [
            { number: 22, protocol: "Any" },
            { number: 3389, protocol: "Any" },
          ],
        },
      },
    );
    expect(opened(policy(), forged)).toEqual(["web-1:22/TCP", "jump-nsg:22/TCP"]);
    expect(opened(policy(), request({}, { approved: { targets: [], ports: [] } }))).toEqual([]);
  });

  it("narrows protocols: Any covers TCP and UDP, TCP and UDP share nothing", () => {
    const all: Protocol[] = ["TCP", "UDP", "Any"];
    const table = all.map((a) => all.map((b) => narrowerProtocol(a, b) ?? "-").join(" "));
    expect(table).toEqual(["TCP - TCP", "- UDP UDP", "TCP UDP Any"]);
  });

  it("opens at most the intersection of the policy now and the record (property)", () => {
    const protocolArb = fc.constantFrom<Protocol>("TCP", "UDP", "Any");
    const ids = [VM, JUMP, WEB2];
    fc.assert(
      fc.property(
        fc.subarray(ids),
        fc.array(fc.record({ number: fc.constantFrom(22, 3389), protocol: protocolArb }), { maxLength: 4 }),
        protocolArb,
        (targets, ports, now22) => {
          const p = edited(now22);
          const r = request({ ports: [22, 3389] }, { approved: { targets, ports } });
          const current = activeGrants([p], [request({ ports: [22, 3389] })], NOW).grants;
          for (const g of activeGrants([p], [r], NOW).grants) {
            if (!targets.includes(g.targetId)) throw new Error(`unapproved target ${g.targetId}`);
            const wide = current.find((c) => c.targetId === g.targetId && c.port === g.port);
            if (wide === undefined || narrowerProtocol(g.protocol, wide.protocol) !== g.protocol)
              throw new Error(`beyond the policy: ${g.port}/${g.protocol}`);
            const ok = ports.some(
              (a) => a.number === g.port && narrowerProtocol(g.protocol, a.protocol) === g.protocol,
            );
            if (!ok) throw new Error(`beyond the record: ${g.port}/${g.protocol}`);
          }
        },
      ),
      { numRuns },
    );
  });
});
