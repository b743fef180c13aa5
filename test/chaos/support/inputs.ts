// Generated (fast-check) JitPolicy and AccessRequest documents: mostly near-valid, with one or more
// fields pushed past a limit, malformed, or semantically wrong for the policy they name.
import fc from "fast-check";
import type { AccessRequest, JitPolicy } from "../../../src/api/types.ts";
import { NSG_PREFIX, chaosNsgId } from "./estate.ts";

const prefix = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((i) => `198.18.7.${String(i)}/32`),
  fc.constantFrom("203.0.113.7/32", "10.1.2.0/24", "10.0.0.1/24", "198.18.0.0/15", "198.16.0.0/12"),
  fc.constantFrom(
    "*",
    "Internet",
    "Any",
    "0.0.0.0/0",
    "::/0",
    "2001:db8::1/128",
    "300.1.1.1/32",
    "1.2.3.4/33",
  ),
  fc.string({ maxLength: 20 }),
);

const duration = fc.oneof(
  fc.constantFrom(
    "PT10S",
    "PT30M",
    "PT1H",
    "PT3H",
    "P1D",
    "PT5S",
    "P2D",
    "P1DT1S",
    "PT0S",
    "PT99999H",
    "1h",
    "P",
  ),
  fc.string({ maxLength: 12 }),
);

const port = fc.oneof(fc.constantFrom(22, 3389, 443, 0, 65536, -1), fc.integer());

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

export const policySpec = fc.record(
  {
    targets: fc.array(fc.oneof(nsgTarget, fc.record({ virtualMachineId: fc.string({ maxLength: 30 }) })), {
      maxLength: 4,
    }),
    ports: fc.array(policyPort, { maxLength: 4 }),
    priorityRange: fc.record({
      from: fc.oneof(fc.integer({ min: 50, max: 5000 }), fc.constant(100)),
      to: fc.oneof(fc.integer({ min: 50, max: 5000 }), fc.constant(101)),
    }),
    nsgScope: fc.constantFrom("All", "NetworkInterface", "Subnet", "Everything"),
  },
  { requiredKeys: ["targets", "priorityRange"] },
);

export function requestSpec(policyNames: string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      policyName: fc.oneof(
        fc.constantFrom(...policyNames, "missing-policy", "Bad_Name", ""),
        fc.string({ maxLength: 10 }),
      ),
      targets: fc.array(
        fc.oneof(fc.integer({ min: 0, max: 12 }).map(chaosNsgId), fc.string({ maxLength: 10 })),
        { maxLength: 2 },
      ),
      ports: fc.array(port, { maxLength: 3 }),
      sourceAddressPrefix: prefix,
      duration,
      justification: fc.string({ maxLength: 30 }),
      requester: fc.constant("alice"),
    },
    {
      requiredKeys: ["policyName", "ports", "sourceAddressPrefix", "duration", "justification", "requester"],
    },
  );
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
