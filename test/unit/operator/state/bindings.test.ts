import { describe, expect, it } from "@jest/globals";
import { BindingIndex, policyBindings } from "../../../../src/operator/state/bindings.ts";
import { nsgKey } from "../../../../src/operator/state/keys.ts";
import { JUMP_NSG, NIC_NSG, SUBNET_NSG, VM, policy } from "../fixtures.ts";

describe("policyBindings", () => {
  it("binds a VM target to each resolved NSG with its IPs, and an NSG target to its declared prefixes", () => {
    const b = policyBindings(policy(), true);
    expect(b.map((x) => [x.nsgId, x.binding.targetId, x.binding.destinationPrefixes])).toEqual([
      [NIC_NSG, VM, ["10.0.1.4"]],
      [SUBNET_NSG, VM, ["10.0.1.4"]],
      [JUMP_NSG, JUMP_NSG, ["10.0.2.4/32"]],
    ]);
    expect(b[0]?.binding.policyKey).toBe("team-a/web-admin");
    expect(b[0]?.binding.priorityRange).toEqual({ from: 100, to: 199 });
  });

  it("leaves an unresolved VM target unbound (nothing is written for it yet)", () => {
    const b = policyBindings(policy({}, false), true);
    expect(b.map((x) => x.nsgId)).toEqual([JUMP_NSG]);
  });

  it("never binds an NSG target without destination prefixes", () => {
    const p = policy({ targets: [{ networkSecurityGroupId: JUMP_NSG }] });
    expect(policyBindings(p, true)).toEqual([]);
  });
});

describe("BindingIndex", () => {
  it("indexes NSGs case-insensitively and reports which NSGs a change touched", () => {
    const idx = new BindingIndex(() => true);
    const touched = idx.upsert(policy(), true);
    expect(touched.sort()).toEqual([nsgKey(NIC_NSG), nsgKey(SUBNET_NSG), nsgKey(JUMP_NSG)].sort());
    expect(idx.upsert(policy(), true)).toEqual([]);
    expect(idx.bindingsFor(nsgKey(NIC_NSG.toUpperCase()))).toHaveLength(1);
    expect(idx.nsgId(nsgKey(NIC_NSG))).toBe(NIC_NSG);
    expect(idx.nsgsOf("team-a/web-admin", VM).sort()).toEqual([nsgKey(NIC_NSG), nsgKey(SUBNET_NSG)].sort());
  });

  it("leaves a deleting policy out of planning but keeps its NSGs known until removed", () => {
    const idx = new BindingIndex(() => true);
    idx.upsert(policy(), true);
    const p = policy();
    p.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
    expect(idx.upsert(p, true).length).toBe(3);
    expect(idx.bindingsFor(nsgKey(JUMP_NSG))).toEqual([]);
    expect(idx.policiesOf(nsgKey(JUMP_NSG))).toEqual(["team-a/web-admin"]);
    expect(idx.isDeleting("team-a/web-admin")).toBe(true);
    expect(idx.remove("team-a/web-admin").length).toBe(3);
    expect(idx.allNsgs()).toEqual([]);
  });

  it("drops the NSGs of a target removed from the spec", () => {
    const idx = new BindingIndex(() => true);
    idx.upsert(policy(), true);
    const touched = idx.upsert(policy({ targets: [{ virtualMachineId: VM }] }), true);
    expect(touched).toContain(nsgKey(JUMP_NSG));
    expect(idx.allNsgs().sort()).toEqual([nsgKey(NIC_NSG), nsgKey(SUBNET_NSG)].sort());
  });
});

describe("BindingIndex with unverified status.targets (ADR 0012)", () => {
  /** The policy's status.targets aimed at jump-nsg, as someone with jitpolicies/status rights would. */
  function forged(): ReturnType<typeof policy> {
    const p = policy();
    p.status = {
      targets: [{ id: VM, privateIpAddresses: ["10.0.1.4"], networkSecurityGroupIds: [JUMP_NSG] }],
    };
    return p;
  }
  /** Stands in for the signature check: only the resolution ARM gave (the VM in its own two NSGs). */
  const trustOnlyOriginal = (p: ReturnType<typeof policy>): boolean =>
    !(p.status?.targets ?? []).some(
      (t) => t.id === VM && (t.networkSecurityGroupIds ?? []).includes(JUMP_NSG),
    );

  it("binds no VM target from an unverified resolution when nothing was verified before", () => {
    const idx = new BindingIndex(() => false);
    idx.upsert(forged(), true);
    expect(idx.nsgsOf("team-a/web-admin", VM)).toEqual([]);
    // The NSG target comes from the spec and stays bound; no VM binding lands in jump-nsg.
    expect(idx.bindingsFor(nsgKey(JUMP_NSG)).map((b) => b.targetId)).toEqual([JUMP_NSG]);
  });

  it("keeps the last verified VM bindings instead, so a forgery changes nothing and touches no NSG", () => {
    const idx = new BindingIndex(trustOnlyOriginal);
    idx.upsert(policy(), true);
    expect(idx.upsert(forged(), true)).toEqual([]);
    expect(idx.nsgsOf("team-a/web-admin", VM).sort()).toEqual([nsgKey(NIC_NSG), nsgKey(SUBNET_NSG)].sort());
    expect(idx.bindingsFor(nsgKey(JUMP_NSG)).map((b) => b.targetId)).toEqual([JUMP_NSG]);
  });

  it("never withholds or moves another policy's bindings", () => {
    const idx = new BindingIndex(trustOnlyOriginal);
    const other = policy();
    other.metadata.name = "db-admin";
    idx.upsert(other, true);
    const before = idx.bindingsFor(nsgKey(NIC_NSG)).filter((b) => b.policyKey === "team-a/db-admin");
    idx.upsert(forged(), true);
    expect(idx.bindingsFor(nsgKey(NIC_NSG)).filter((b) => b.policyKey === "team-a/db-admin")).toEqual(before);
    expect(before).toHaveLength(1);
  });
});

describe("BindingIndex with a spec core validation refuses", () => {
  /** Admitted by the schema, refused by the operator: three allow rules and a deny need four priorities. */
  const tooSmall = { priorityRange: { from: 100, to: 101 } };

  it("binds nothing for a policy never valid, so no NSG is written for it", () => {
    const idx = new BindingIndex(() => true);
    expect(idx.upsert(policy(tooSmall), false)).toEqual([]);
    expect(idx.allNsgs()).toEqual([]);
    expect(idx.nsgsOf("team-a/web-admin")).toEqual([]);
  });

  it("keeps what the policy bound when last valid: a refused edit changes no NSG", () => {
    const idx = new BindingIndex(() => true);
    idx.upsert(policy(), true);
    const before = idx.bindingsFor(nsgKey(JUMP_NSG));
    expect(idx.upsert(policy(tooSmall), false)).toEqual([]);
    expect(idx.bindingsFor(nsgKey(JUMP_NSG))).toEqual(before);
    expect(before[0]?.priorityRange).toEqual({ from: 100, to: 199 });
    // Valid again: the new spec binds.
    expect(idx.upsert(policy({ priorityRange: { from: 300, to: 399 } }), true).length).toBe(3);
    expect(idx.bindingsFor(nsgKey(JUMP_NSG))[0]?.priorityRange).toEqual({ from: 300, to: 399 });
  });

  it("still drops a target the refused spec (or its scopes) no longer names", () => {
    const idx = new BindingIndex(() => true);
    idx.upsert(policy(), true);
    const touched = idx.upsert(policy({ ...tooSmall, targets: [{ virtualMachineId: VM }] }), false);
    expect(touched).toContain(nsgKey(JUMP_NSG));
    expect(idx.allNsgs().sort()).toEqual([nsgKey(NIC_NSG), nsgKey(SUBNET_NSG)].sort());
  });

  it("a refused policy being deleted is left out of planning", () => {
    const idx = new BindingIndex(() => true);
    idx.upsert(policy(), true);
    const p = policy(tooSmall);
    p.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
    expect(idx.upsert(p, false).length).toBe(3);
    expect(idx.bindingsFor(nsgKey(JUMP_NSG))).toEqual([]);
  });
});
