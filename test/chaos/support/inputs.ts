// Generated (fast-check) JitPolicy and AccessRequest documents: mostly near-valid, with one or more
// fields pushed past a limit, malformed, or semantically wrong for the policy they name.
import fc from "fast-check";
import type { AccessRequest, JitPolicy } from "../../../src/api/types.ts";
import { NSG_PREFIX, chaosNsgId } from "./estate.ts";

// Weighted towards well-formed values that break a semantic limit (admission lets them through,
// the operator must refuse them), with some malformed ones that admission must refuse.
const prefix = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }).map((i) => `198.18.7.${String(i)}/32`) },
  {
    weight: 4,
    arbitrary: fc.constantFrom("203.0.113.7/32", "10.1.2.0/24", "198.16.0.0/12", "2001:db8::1/128"),
  },
  { weight: 2, arbitrary: fc.constantFrom("*", "Internet", "Any", "0.0.0.0/0", "::/0") },
  { weight: 1, arbitrary: fc.constantFrom("10.0.0.1/24", "300.1.1.1/32", "1.2.3.4/33") },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

const duration = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("PT10S", "PT30M", "PT1H", "PT2H", "PT3H", "P1D", "PT59M60S") },
  { weight: 1, arbitrary: fc.constantFrom("PT5S", "P2D", "P1DT1S", "PT0S", "PT99999H", "1h", "P") },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

const port = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(22, 3389, 443, 8080) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom(0, 65536, -1), fc.integer()) },
);

const nsgTarget = fc.record(
  {
    networkSecurityGroupId: fc.oneof(
      fc.integer({ min: 0, max: 9 }).map(chaosNsgId),
      fc.constantFrom(`${NSG_PREFIX}no-such-nsg`, "not-an-arm-id", ""),
    ),
    destinationAddressPrefixes: fc.array(prefix, { maxLength: 3 }),
  },
  { requiredKeys: ["networkSecurityGroupId"] },
);

const policyPort = fc.record(
  {
    number: port,
    protocol: fc.constantFrom("TCP", "UDP", "Any", "tcp", "ICMP"),
    allowedSourceAddressPrefixes: fc.array(prefix, { maxLength: 3 }),
    maxDuration: duration,
  },
  { requiredKeys: ["number", "protocol", "maxDuration"] },
);

const validPolicy = {
  targets: [{ networkSecurityGroupId: chaosNsgId(0), destinationAddressPrefixes: ["10.9.0.4/32"] }],
  ports: [
    { number: 22, protocol: "TCP", allowedSourceAddressPrefixes: ["198.18.0.0/15"], maxDuration: "PT1H" },
  ],
  priorityRange: { from: 100, to: 199 },
  nsgScope: "All",
};

const udp3389 = {
  number: 3389,
  protocol: "UDP",
  allowedSourceAddressPrefixes: ["198.18.0.0/15"],
  maxDuration: "PT1H",
};

/**
 * Specs core validation refuses, each naming real NSGs (binding one would write there): bands too
 * small for one allow per port and one deny per protocol, a port as Any and again as TCP, one NSG
 * named twice in different case, a maximum duration below the floor. Admission refuses them all
 * (the band's size by a CEL rule on spec); an operator that bound one anyway would write.
 */
export const refusedPolicySpecs: Record<string, unknown>[] = [
  { ...validPolicy, priorityRange: { from: 300, to: 300 } },
  { ...validPolicy, ports: [...validPolicy.ports, udp3389], priorityRange: { from: 100, to: 101 } },
  { ...validPolicy, ports: [...validPolicy.ports, udp3389], priorityRange: { from: 1000, to: 1001 } },
  {
    ...validPolicy,
    ports: [...validPolicy.ports, { number: 22, protocol: "Any", maxDuration: "PT1H" }],
    priorityRange: { from: 400, to: 499 },
  },
  {
    ...validPolicy,
    targets: [chaosNsgId(1), chaosNsgId(1).toUpperCase()].map((id) => ({
      networkSecurityGroupId: id,
      destinationAddressPrefixes: ["10.9.0.5/32"],
    })),
    priorityRange: { from: 500, to: 599 },
  },
  {
    ...validPolicy,
    ports: [{ ...validPolicy.ports[0], maxDuration: "PT10S" }],
    priorityRange: { from: 600, to: 699 },
  },
];

const policyFields = {
  targets: fc.array(fc.oneof(nsgTarget, fc.record({ virtualMachineId: fc.string({ maxLength: 30 }) })), {
    maxLength: 4,
  }),
  ports: fc.array(policyPort, { maxLength: 4 }),
  priorityRange: fc.record({
    from: fc.oneof(fc.integer({ min: 50, max: 5000 }), fc.constant(100)),
    to: fc.oneof(fc.integer({ min: 50, max: 5000 }), fc.constant(101)),
  }),
  nsgScope: fc.constantFrom("All", "NetworkInterface", "Subnet", "Everything"),
};

/** A valid policy with one to all of its fields replaced by generated (often invalid) values. */
export const policySpec: fc.Arbitrary<Record<string, unknown>> = fc
  .record(policyFields, { requiredKeys: [] })
  .filter((m) => Object.keys(m).length > 0 && Object.keys(m).length <= 2)
  .map((m) => ({ ...validPolicy, ...m }));

const requestFields = (policyNames: string[]): Record<string, fc.Arbitrary<unknown>> => ({
  policyName: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...policyNames, "missing-policy") },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom("Bad_Name", ""), fc.string({ maxLength: 10 })) },
  ),
  targets: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.array(fc.integer({ min: 0, max: 12 }).map(chaosNsgId), { minLength: 1, maxLength: 2 }),
    },
    { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }) },
  ),
  ports: fc.oneof(
    { weight: 4, arbitrary: fc.array(port, { minLength: 1, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constant([]) },
  ),
  sourceAddressPrefix: prefix,
  duration,
  justification: fc.string({ minLength: 1, maxLength: 30 }),
});

/** A valid request for the chaos policy with one or more fields replaced by generated values. */
export function requestSpec(policyNames: string[]): fc.Arbitrary<Record<string, unknown>> {
  const valid = {
    policyName: "chaos",
    ports: [22],
    sourceAddressPrefix: "198.18.7.7/32",
    duration: "PT30M",
    justification: "generated",
    requester: "alice",
  };
  return fc
    .record(requestFields(policyNames), { requiredKeys: [] })
    .filter((m) => Object.keys(m).length > 0 && Object.keys(m).length <= 2)
    .map((m) => ({ ...valid, ...m }));
}

export function policyDoc(ns: string, name: string, spec: unknown): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { name, namespace: ns },
    spec,
  } as JitPolicy;
}

export function requestDoc(ns: string, name: string, spec: unknown): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { name, namespace: ns },
    spec,
  } as AccessRequest;
}
