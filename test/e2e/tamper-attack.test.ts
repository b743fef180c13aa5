// The "tamper while frozen" attack, end to end: a foreign rule dropped into the example policy's band
// in jump-nsg freezes the policy there (PriorityConflict); someone with write access to the NSG then
// edits drawbridge's baseline deny into an Allow from anywhere, hoping the frozen policy keeps it.
// Within one resync the rule must be the Deny it was, with its original content, and the foreign
// rule must be left exactly as it was put.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { JUMP_NSG, Stack, eventually } from "./harness.ts";
import type { Rule } from "./harness.ts";

jest.setTimeout(120_000);

let stack: Stack;

interface Cond {
  type: string;
  status: string;
  message: string;
}

async function conflict(): Promise<Cond | undefined> {
  const out = await stack.kubectlOk(["get", "jitpolicy", "web-admin", "-n", stack.ns, "-o", "json"]);
  const conditions = (JSON.parse(out) as { status?: { conditions?: Cond[] } }).status?.conditions ?? [];
  return conditions.find((c) => c.type === "PriorityConflict" && c.status === "True");
}

/** What Azure acts on, and the description: everything but the read-only fields. */
function content(r: Rule | undefined): Record<string, unknown> | undefined {
  if (r === undefined) return undefined;
  const { provisioningState: _state, ...rest } = r.properties as Record<string, unknown>;
  return { name: r.name, ...rest };
}

function ruleNamed(name: string): Rule | undefined {
  return stack.rules(JUMP_NSG).find((r) => r.name === name);
}

const INTRUDER = {
  description: "legacy rule placed by hand inside drawbridge's band",
  protocol: "Tcp",
  sourcePortRange: "*",
  destinationPortRange: "8080",
  sourceAddressPrefix: "10.9.9.9/32",
  destinationAddressPrefix: "10.0.2.4/32",
  access: "Allow",
  priority: 150,
  direction: "Inbound",
};

beforeAll(async () => {
  stack = await Stack.start("tamper");
  // A short resync: the operator reads the NSG back from ARM every 2 s, as it would every 5 min.
  stack.startOperator({ resyncInterval: "2s" });
  await stack.applyPolicy();
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

describe("a hand-edited baseline deny of a frozen policy", () => {
  it("is restored to the Deny it was, in place, while the foreign rule stays untouched", async () => {
    const deny = await eventually("web-admin's baseline deny in jump-nsg", () =>
      stack.managed(JUMP_NSG).find((r) => r.properties.access === "Deny"),
    );
    const original = content(deny);

    await stack.armPut(JUMP_NSG, "legacy-in-band", INTRUDER);
    const frozen = await eventually("web-admin's PriorityConflict", conflict);
    expect(frozen.message).toContain("legacy-in-band");
    const intruder = content(ruleNamed("legacy-in-band"));
    expect(intruder).toMatchObject(INTRUDER);

    // The attack: the managed deny becomes an Allow from anywhere, to anywhere, on every port.
    const { destinationAddressPrefixes: _d, destinationPortRanges: _p, ...kept } = deny.properties;
    await stack.armPut(JUMP_NSG, deny.name, {
      ...kept,
      access: "Allow",
      sourceAddressPrefix: "*",
      destinationAddressPrefix: "*",
      destinationPortRange: "*",
    });
    expect(ruleNamed(deny.name)?.properties.access).toBe("Allow");

    // Within one resync (2 s; 15 s allowed) the rule is the Deny it was, byte for byte.
    await eventually(
      "the tampered rule to be the original Deny again",
      () => ruleNamed(deny.name)?.properties.access === "Deny",
      15_000,
    );
    expect(content(ruleNamed(deny.name))).toEqual(original);
    expect(content(ruleNamed("legacy-in-band"))).toEqual(intruder);
    // Still frozen: nothing else of the policy was written meanwhile, and no managed rule allows.
    expect(await conflict()).toBeDefined();
    expect(stack.managed(JUMP_NSG).filter((r) => r.properties.access === "Allow")).toEqual([]);
  });
});
