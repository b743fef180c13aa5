// The "widen by policy edit" attack, end to end: alice's request names no targets and is Active on
// the example policy; the policy's admin then adds a target (web-subnet-nsg as an NSG target for
// 10.0.1.5) and widens port 22 from TCP to Any. Alice's approved grant must not follow: no rule lets
// her source towards the new target, and her rules keep protocol Tcp. A request made after the edit
// gets the edited policy (the new target, protocol Any): the edit works, it just does not reach back.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import {
  ALL_NSGS,
  JUMP_NSG,
  NIC_NSG,
  SUBNET_NSG,
  Stack,
  destinationsOf,
  eventually,
  portsOf,
  sourcesOf,
} from "./harness.ts";
import type { Rule } from "./harness.ts";

jest.setTimeout(120_000);

let stack: Stack;

const ALICE = "203.0.113.7/32";
const LATER = "203.0.113.8/32";
const NEW_DEST = "10.0.1.5/32";

/** Managed allow rules of every NSG that carry `source` on port 22. */
function allowsOf(source: string): { nsg: string; rule: Rule }[] {
  return ALL_NSGS.flatMap((nsg) => stack.allowsFor(nsg, 22, source).map((rule) => ({ nsg, rule })));
}

async function activeOrDenied(name: string): Promise<string> {
  return eventually(`${name} to be decided`, async () => {
    const phase = await stack.phaseOf(name);
    return phase === "Active" || phase === "Denied" ? phase : undefined;
  });
}

beforeAll(async () => {
  stack = await Stack.start("widen");
  stack.startOperator();
  await stack.applyPolicy();
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

describe("a policy edit after approval", () => {
  it("neither reaches a new target nor widens the protocol of an approved grant; a new request gets both", async () => {
    const alice = await stack.createRequest({ sourceAddressPrefix: ALICE });
    expect(await activeOrDenied(alice)).toBe("Active");
    const approved = (await stack.getRequest(alice))?.status?.approved as
      { targets: string[]; ports: { number: number; protocol: string }[] } | undefined;
    expect(approved?.ports).toEqual([{ number: 22, protocol: "TCP" }]);
    expect(approved?.targets).toHaveLength(2);
    const before = allowsOf(ALICE);
    expect(before.map((a) => a.nsg).sort()).toEqual([...ALL_NSGS].sort());

    // The edit: one more target, and port 22 opened to any protocol.
    await stack.applyPolicy((doc) => {
      const spec = doc.spec as { targets: object[]; ports: { number: number; protocol: string }[] };
      spec.targets.push({ networkSecurityGroupId: SUBNET_NSG, destinationAddressPrefixes: [NEW_DEST] });
      for (const p of spec.ports) if (p.number === 22) p.protocol = "Any";
    });

    // A request made after the edit opens the new target with protocol Any: the edit took effect.
    const later = await stack.createRequest({ sourceAddressPrefix: LATER });
    expect(await activeOrDenied(later)).toBe("Active");
    await eventually("the later request's rule towards the new target", () =>
      allowsOf(LATER).some(
        (a) => destinationsOf(a.rule).includes(NEW_DEST) && a.rule.properties.protocol === "*",
      ),
    );

    // Alice's grant: no rule towards the new target, and every rule of hers still Tcp only.
    const hers = allowsOf(ALICE);
    expect(hers.filter((a) => destinationsOf(a.rule).includes(NEW_DEST))).toEqual([]);
    expect(hers.map((a) => [a.nsg, a.rule.properties.protocol, portsOf(a.rule)]).sort()).toEqual(
      [
        [NIC_NSG, "Tcp", ["22"]],
        [SUBNET_NSG, "Tcp", ["22"]],
        [JUMP_NSG, "Tcp", ["22"]],
      ].sort(),
    );
    // Her source appears in no protocol-Any rule anywhere.
    for (const nsg of ALL_NSGS) {
      for (const r of stack.managed(nsg)) {
        if (r.properties.access === "Allow" && r.properties.protocol === "*") {
          expect([nsg, r.name, sourcesOf(r).includes(ALICE)]).toEqual([nsg, r.name, false]);
        }
      }
    }
    expect(await stack.phaseOf(alice)).toBe("Active");
  });
});
