// Two bindings whose rule names collide (a 64-bit hash collision, forced here) write nothing: both
// policies are frozen naming the other, their grants are rejected, their living rules stay as they are.
// And a rule a person named "Drawbridge-..." is never read as drawbridge's own.
import { describe, expect, it } from "@jest/globals";
import { indexGrants, normalizeBindings } from "../../../src/core/bindings.ts";
import { planNsg } from "../../../src/core/index.ts";
import type { Grant, ObservedNsg, PolicyBinding, SecurityRule } from "../../../src/core/index.ts";
import { findNameClashes, holdClashes } from "../../../src/core/name-clashes.ts";
import { newPlanContext } from "../../../src/core/plan-context.ts";
import { ownGrammar } from "../../../src/core/rule-grammar.ts";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers";
const VM = `${SUB}/Microsoft.Compute/virtualMachines/web-1`;
const NSG = `${SUB}/Microsoft.Network/networkSecurityGroups/web-1-nic-nsg`;

function binding(policyKey: string, from = 100, to = 199): PolicyBinding {
  return {
    policyKey,
    targetId: VM,
    destinationPrefixes: ["10.0.1.4/32"],
    ports: [{ number: 22, protocol: "TCP", maxDuration: "PT3H" }],
    priorityRange: { from, to },
  };
}

function grant(policyKey: string): Grant {
  return {
    requestKey: `${policyKey.split("/")[0] ?? ""}/req-1`,
    policyKey,
    targetId: VM,
    port: 22,
    protocol: "TCP",
    sourcePrefix: "203.0.113.7/32",
    expiresAt: new Date("2030-01-01T00:00:00Z"),
  };
}

function rule(name: string, priority: number, access: "Allow" | "Deny" = "Allow"): SecurityRule {
  return {
    name,
    priority,
    direction: "Inbound",
    access,
    protocol: "Tcp",
    sourceAddressPrefix: access === "Deny" ? "*" : "203.0.113.7/32",
    sourcePortRange: "*",
    destinationAddressPrefix: "10.0.1.4/32",
    destinationPortRange: "22",
  };
}

function nsg(rules: SecurityRule[]): ObservedNsg {
  return { id: NSG, securityRules: rules };
}

describe("rule-name clashes", () => {
  it("holds both bindings of one name: frozen naming the other, grants rejected, living rules kept as they are", () => {
    const table = normalizeBindings([binding("team-a/web-admin"), binding("team-a-web/admin", 300, 399)]);
    const [a, b] = table.list;
    if (a === undefined || b === undefined) throw new Error("two bindings expected");
    expect(a.rulePrefix).not.toBe(b.rulePrefix);
    expect(findNameClashes(table.list).size).toBe(0);
    // Force the collision no one can craft: b takes a's names.
    b.rulePrefix = a.rulePrefix.toUpperCase();
    b.hash = a.hash;
    const livingDeny = rule(`${a.rulePrefix}deny-tcp`, 199, "Deny");
    const ctx = newPlanContext(nsg([livingDeny]), "web-1-nic-nsg", ownGrammar(""));
    const grants = [grant("team-a/web-admin"), grant("team-a-web/admin")];
    indexGrants(table, grants);
    const rest = holdClashes(ctx, table.list);
    expect(rest).toEqual([]);
    expect(ctx.frozen.get("team-a/web-admin")?.[0]?.otherPolicyKey).toBe("team-a-web/admin");
    expect(ctx.frozen.get("team-a-web/admin")?.[0]?.otherPolicyKey).toBe("team-a/web-admin");
    expect(ctx.frozen.get("team-a/web-admin")?.[0]?.message).toMatch(
      /rule names of policy team-a\/web-admin for target web-1 collide with those of policy team-a-web\/admin/,
    );
    expect(ctx.rejected.map((r) => [r.grant, r.reason])).toEqual([
      [grants[0], "PriorityConflict"],
      [grants[1], "PriorityConflict"],
    ]);
    expect(ctx.kept.map((i) => ctx.living.rules[i])).toEqual([livingDeny]);
  });

  it("gives team-a/web-admin and team-a-web/admin, which share a slug, different names", () => {
    const p = planNsg({
      nsg: nsg([]),
      // Another address of the VM for the second policy: its allow is not behind the first one's deny.
      bindings: [
        binding("team-a/web-admin"),
        { ...binding("team-a-web/admin", 300, 399), destinationPrefixes: ["10.0.1.5/32"] },
      ],
      grants: [grant("team-a/web-admin"), grant("team-a-web/admin")],
    });
    const names = p.desired.map((r) => r.name);
    expect(names).toHaveLength(4);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(4);
    expect(p.rejected).toEqual([]);
  });
});

describe("rules that only start like drawbridge's", () => {
  it("never deletes or rewrites Drawbridge-admin-ssh and counts it as a foreign rule in the band", () => {
    const person = [rule("Drawbridge-admin-ssh", 150), rule("DRAWBRIDGE-X", 3000)];
    const idle = planNsg({ nsg: nsg(person), bindings: [], grants: [] });
    expect(idle.deletes).toEqual([]);
    expect(idle.puts).toEqual([]);
    expect(idle.nsgBody).toEqual(person);
    const p = planNsg({
      nsg: nsg(person),
      bindings: [binding("team-a/web-admin")],
      grants: [grant("team-a/web-admin")],
    });
    expect(p.deletes).toEqual([]);
    expect(p.puts.map((r) => r.name.toLowerCase())).not.toContain("drawbridge-admin-ssh");
    expect(p.nsgBody).toEqual(expect.arrayContaining(person));
    expect(p.conflicts.map((c) => c.ruleName)).toContain("Drawbridge-admin-ssh");
  });
});
