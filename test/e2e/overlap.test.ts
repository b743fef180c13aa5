// Two policies, one NSG: a second policy whose priority band overlaps the first one's in jump-nsg
// is detected and reported on both (PriorityConflict naming the other); neither writes into the
// NSG, and the first policy's rules there are neither deleted nor renumbered.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { JUMP_NSG, NIC_NSG, Stack, VM_ID, eventually } from "./harness.ts";
import { denyRuleName } from "../../src/core/names.ts";
import type { Rule } from "./harness.ts";

jest.setTimeout(120_000);

let stack: Stack;

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}

async function conflict(policy: string): Promise<Cond | undefined> {
  const out = await stack.kubectlOk(["get", "jitpolicy", policy, "-n", stack.ns, "-o", "json"]);
  const conditions = (JSON.parse(out) as { status?: { conditions?: Cond[] } }).status?.conditions ?? [];
  return conditions.find((c) => c.type === "PriorityConflict" && c.status === "True");
}

const byName = (rules: Rule[]): Rule[] => [...rules].sort((a, b) => a.name.localeCompare(b.name));

beforeAll(async () => {
  stack = await Stack.start("overlap");
  stack.startOperator();
  await stack.applyPolicy();
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

describe("overlapping bands in one NSG", () => {
  it("freezes both policies, names the other, and leaves the first one's rules as they were", async () => {
    await eventually("web-admin's baseline in jump-nsg", () => stack.managed(JUMP_NSG).length > 0);
    const before = byName(stack.managed(JUMP_NSG));
    const writes = stack.emulator.writeLog().length;

    await stack.applyPolicy((doc) => {
      (doc.metadata as Record<string, unknown>).name = "db-admin";
      const spec = doc.spec as Record<string, unknown>;
      spec.targets = [{ networkSecurityGroupId: JUMP_NSG, destinationAddressPrefixes: ["10.0.2.9/32"] }];
      spec.priorityRange = { from: 150, to: 249 };
    });
    const mine = await eventually("db-admin's PriorityConflict", () => conflict("db-admin"));
    expect(mine.message).toContain(`policy ${stack.ns}/web-admin`);
    expect(mine.message).toContain("100..199");
    const theirs = await eventually("web-admin's PriorityConflict", () => conflict("web-admin"));
    expect(theirs.message).toContain(`policy ${stack.ns}/db-admin`);

    // A request under the newcomer is refused; nothing was written to jump-nsg for either policy.
    const name = await stack.createRequest({ policyName: "db-admin" });
    await eventually("Denied", async () => ((await stack.phaseOf(name)) === "Denied" ? true : undefined));
    expect(byName(stack.managed(JUMP_NSG))).toEqual(before);
    const jumpWrites = stack.emulator
      .writeLog()
      .slice(writes)
      .filter((w) => JSON.stringify(w).toLowerCase().includes("jump-nsg"));
    expect(jumpWrites).toEqual([]);

    // The overlap removed, the newcomer writes into its own band and the first keeps its rules.
    await stack.kubectlOk(["delete", "jitpolicy", "db-admin", "-n", stack.ns]);
    await eventually("web-admin's conflict to clear", async () =>
      (await conflict("web-admin")) === undefined ? true : undefined,
    );
    expect(byName(stack.managed(JUMP_NSG))).toEqual(before);
  });

  it("denies a grant that another policy's deny of the same VM and port would decide first, naming that deny", async () => {
    await stack.applyPolicy((doc) => {
      (doc.metadata as Record<string, unknown>).name = "late-ssh";
      const spec = doc.spec as Record<string, unknown>;
      spec.targets = [{ virtualMachineId: VM_ID }];
      spec.priorityRange = { from: 1000, to: 1099 };
    });
    const name = await stack.createRequest({ policyName: "late-ssh" });
    const status = await eventually("Denied", async () => {
      const r = await stack.getRequest(name);
      return r?.status?.["phase"] === "Denied" ? r.status : undefined;
    });
    const text = JSON.stringify(status);
    expect(text).toContain("PriorityConflict");
    expect(text).toContain(
      `the deny rule ${denyRuleName(`${stack.ns}/web-admin`, VM_ID, "TCP")} at priority 199`,
    );
    // Its baseline deny is written (a deny only narrows); no allow of it is.
    const late = (): Rule[] => stack.managed(NIC_NSG).filter((r) => r.name.includes("late-ssh"));
    await eventually("late-ssh's baseline deny", () => (late().length > 0 ? true : undefined));
    expect(late().map((r) => r.properties.access)).toEqual(["Deny"]);
  });
});
