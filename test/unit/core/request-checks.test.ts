// Request validation as an ordered chain of named checks: the order is the precedence.
import { describe, expect, it } from "@jest/globals";
import type { AccessRequest, JitPolicy } from "../../../src/api/types.ts";
import { REQUEST_CHECKS, runRequestChecks } from "../../../src/core/request-checks.ts";
import type { RequestCheck } from "../../../src/core/request-checks.ts";
import type { Issue } from "../../../src/core/types.ts";
import { VM, policy, request as makeRequest } from "../operator/fixtures.ts";

const request = { metadata: { namespace: "team-a", name: "r" }, spec: {} } as unknown as AccessRequest;
const issueOf = (reason: string): Issue => ({ reason, field: "spec", message: reason });
const check = (name: string, stops: boolean, fails: boolean): RequestCheck => ({
  name,
  stops,
  check: () => (fails ? [issueOf(name)] : []),
});

describe("request check chain", () => {
  it("runs in the documented order", () => {
    expect(REQUEST_CHECKS.map((c) => [c.name, c.stops])).toEqual([
      ["Shape", true],
      ["PolicyExists", true],
      ["PolicyValid", true],
      ["TargetsInPolicy", false],
      ["PortsSourcesDurations", false],
      ["AddressFamily", false],
      ["Justification", false],
    ]);
  });

  it("stops after the first failing check that stops, keeping the issues before it", () => {
    const chain = [
      check("A", false, true),
      check("B", true, false),
      check("C", true, true),
      check("D", false, true),
    ];
    expect(runRequestChecks(chain, { request, policy: undefined }).map((i) => i.reason)).toEqual(["A", "C"]);
  });

  it("collects every failing check that does not stop", () => {
    const chain = [check("A", false, true), check("B", false, true), check("C", true, false)];
    expect(runRequestChecks(chain, { request, policy: undefined }).map((i) => i.reason)).toEqual(["A", "B"]);
  });

  it("a request without a policy fails PolicyExists after its shape", () => {
    const shaped = {
      metadata: { namespace: "team-a", name: "r" },
      spec: {
        policyName: "ssh",
        targets: [
          "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-1",
        ],
        ports: [22],
        sourceAddressPrefix: "203.0.113.7/32",
        duration: "PT1H",
        justification: "debugging",
        requester: "alice",
      },
    } as unknown as AccessRequest;
    expect(
      runRequestChecks(REQUEST_CHECKS, { request: shaped, policy: undefined }).map((i) => i.reason),
    ).toEqual(["PolicyNotFound"]);
  });
});

describe("policy checks per spec object", () => {
  const reasons = (p: JitPolicy, r: AccessRequest): string[] =>
    runRequestChecks(REQUEST_CHECKS, { request: r, policy: p }).map((x) => x.reason);

  it("answers a spec whose field was reassigned afresh, not from the memo", () => {
    const p = policy();
    const r = makeRequest();
    r.spec.targets = [VM];
    expect(reasons(p, r)).toEqual([]);
    expect(reasons(p, r)).toEqual([]);
    p.spec.targets = [{ virtualMachineId: `${VM}-other` }];
    expect(reasons(p, r)).toEqual(["TargetNotInPolicy"]);
    p.spec.priorityRange = { from: 100, to: 100 };
    expect(reasons(p, r)).toEqual(["PolicyInvalid"]);
  });

  it("answers each spec object for itself", () => {
    const r = makeRequest();
    r.spec.targets = [VM];
    expect(reasons(policy(), r)).toEqual([]);
    expect(reasons(policy({ targets: [{ virtualMachineId: `${VM}-other` }] }), r)).toEqual([
      "TargetNotInPolicy",
    ]);
    expect(reasons(policy(), r)).toEqual([]);
  });
});
