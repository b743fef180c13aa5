// Rule-name attacks, end to end. Two policies of one namespace whose names share the whole slug (the
// part of a rule name a person reads) must get distinct rules: granting or revoking one never touches
// the other's. A rule a person named "Drawbridge-admin-ssh" is not drawbridge's and survives every
// reconcile (earlier versions deleted it as stale). And an estate of the previous names (8-digit hash)
// moves to the current ones with each new deny written before the old one goes.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { NIC_NSG, Stack, eventually } from "./harness.ts";
import { allowRuleName, denyRuleName } from "../../src/core/names.ts";
import { legacyRulePrefix } from "../../src/core/legacy-names.ts";
import { VM_ID } from "./harness.ts";

jest.setTimeout(180_000);

let stack: Stack;
const LONG = "x".repeat(60);
const FIRST = `${LONG}a`;
const SECOND = `${LONG}b`;
/** Ports no other policy of the VM covers: FIRST's, then SECOND's two. */
const PORT_A = 2222;
const PORT_B = 2223;
const PORT_C = 2224;

function names(nsgId: string): string[] {
  return stack.rules(nsgId).map((r) => r.name);
}

async function active(name: string): Promise<void> {
  await eventually(`${name} to be Active`, async () =>
    (await stack.phaseOf(name)) === "Active" ? true : undefined,
  );
}

function writeLog(): { nsgId: string; changed: string[] }[] {
  return stack.emulator.writeLog();
}

beforeAll(async () => {
  stack = await Stack.start("names");
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

describe("rule names", () => {
  test("an estate of legacy names moves to the current ones, each new deny written before its old one goes", async () => {
    // The previous version ran: the policy is resolved and its deny is in place, with one open grant.
    await stack.applyPolicy();
    const first0 = stack.startOperator();
    const r = await stack.createRequest();
    await active(r);
    const newDeny = denyRuleName(`${stack.ns}/web-admin`, VM_ID, "TCP");
    const newAllow = allowRuleName(`${stack.ns}/web-admin`, VM_ID, "TCP", 22);
    await eventually("the deny and allow", () =>
      names(NIC_NSG).includes(newDeny) && names(NIC_NSG).includes(newAllow) ? true : undefined,
    );
    await first0.stop();
    // What it left, in its names: every rule of the NIC NSG renamed to the 8-digit hash.
    const old = legacyRulePrefix(`${stack.ns}/web-admin`, VM_ID.toLowerCase(), "");
    const legacyDeny = `${old}deny-tcp`;
    const legacyAllow = `${old}tcp-22`;
    for (const [now, then] of [
      [newAllow, legacyAllow],
      [newDeny, legacyDeny],
    ] as const) {
      const rule = stack.rules(NIC_NSG).find((x) => x.name === now);
      if (rule === undefined) throw new Error(`${now} missing`);
      await stack.armDelete(NIC_NSG, now);
      await stack.armPut(NIC_NSG, then, rule.properties);
    }
    const since = writeLog().length;
    // The upgraded operator starts.
    stack.startOperator();
    await eventually("the legacy rules to be replaced", () => {
      const now = names(NIC_NSG);
      return now.includes(newDeny) && !now.includes(legacyDeny) && !now.includes(legacyAllow)
        ? true
        : undefined;
    });
    const log = writeLog()
      .slice(since)
      .filter((w) => w.nsgId.toLowerCase() === NIC_NSG.toLowerCase());
    const at = (name: string): number => log.findIndex((w) => w.changed.includes(name));
    expect(at(newDeny)).toBeGreaterThanOrEqual(0);
    expect(at(legacyDeny)).toBeGreaterThan(at(newDeny));
    expect(at(legacyAllow)).toBeGreaterThanOrEqual(0);
    expect(await stack.phaseOf(r)).toBe("Active");
    expect(names(NIC_NSG)).toContain(newAllow);
  });

  test("two policies whose names share the whole slug get distinct rules; revoking one leaves the other's", async () => {
    // Ports of their own: web-admin's deny (band 100..199) decides 22 and 3389 before any allow of
    // a higher band, and a grant behind it would be Denied (ADR 0019).
    for (const name of [FIRST, SECOND]) {
      await stack.applyPolicy((doc) => {
        (doc.metadata as Record<string, unknown>).name = name;
        const spec = doc.spec as Record<string, unknown>;
        spec.targets = [{ virtualMachineId: VM_ID }];
        spec.priorityRange = name === FIRST ? { from: 200, to: 229 } : { from: 230, to: 259 };
        const [ssh] = spec.ports as Record<string, unknown>[];
        spec.ports = (name === FIRST ? [PORT_A] : [PORT_B, PORT_C]).map((number) => ({ ...ssh, number }));
      });
    }
    const a = await stack.createRequest({ policyName: FIRST, ports: [PORT_A] });
    const b = await stack.createRequest({ policyName: SECOND, ports: [PORT_B] });
    await active(a);
    await active(b);
    const allowA = allowRuleName(`${stack.ns}/${FIRST}`, VM_ID, "TCP", PORT_A);
    const allowB = allowRuleName(`${stack.ns}/${SECOND}`, VM_ID, "TCP", PORT_B);
    // The slugs are equal; the hashes are not.
    expect(allowA.slice(0, -"-0123456789abcdef-tcp-2222".length)).toBe(
      allowB.slice(0, -"-0123456789abcdef-tcp-2223".length),
    );
    expect(allowA).not.toBe(allowB);
    await eventually("both allows", () =>
      names(NIC_NSG).includes(allowA) && names(NIC_NSG).includes(allowB) ? true : undefined,
    );
    await stack.kubectlOk(["delete", "accessrequest", a, "-n", stack.ns, "--wait=false"]);
    await eventually("the first allow to close", () => (names(NIC_NSG).includes(allowA) ? undefined : true));
    expect(names(NIC_NSG)).toContain(allowB);
    expect(await stack.phaseOf(b)).toBe("Active");
  });

  test("a rule a person named Drawbridge-admin-ssh is never rewritten or deleted", async () => {
    const person = {
      priority: 290,
      direction: "Inbound",
      access: "Allow",
      protocol: "Tcp",
      sourceAddressPrefix: "198.51.100.10/32",
      sourcePortRange: "*",
      destinationAddressPrefix: "10.0.1.4/32",
      destinationPortRange: "22",
      description: "break-glass, written by a person",
    };
    await stack.armPut(NIC_NSG, "Drawbridge-admin-ssh", person);
    const since = writeLog().length;
    // Another request makes the operator reconcile the NSG again, opening and closing an allow.
    const c = await stack.createRequest({
      policyName: SECOND,
      ports: [PORT_C],
      sourceAddressPrefix: "203.0.113.9/32",
    });
    await active(c);
    const allowC = allowRuleName(`${stack.ns}/${SECOND}`, VM_ID, "TCP", PORT_C);
    expect(names(NIC_NSG)).toContain(allowC);
    await stack.kubectlOk(["delete", "accessrequest", c, "-n", stack.ns, "--wait=false"]);
    await eventually("the request's allow to close", () =>
      names(NIC_NSG).includes(allowC) ? undefined : true,
    );
    const kept = stack.rules(NIC_NSG).find((r) => r.name === "Drawbridge-admin-ssh");
    expect(kept?.properties).toMatchObject(person);
    const touching = writeLog()
      .slice(since)
      .filter((w) => w.changed.some((n) => n.toLowerCase() === "drawbridge-admin-ssh"));
    expect(touching).toEqual([]);
  });
});
