// The JitPolicy reconciler, one reconcile of "team-a/ssh" at a time: finalizer, target resolution
// through in-memory ARM (404 and 400 as resolution failures, 429 to the queue), conditions from the
// NSG ledger (PriorityConflict, NsgError, Ready), and on delete the finalizer held until an NSG
// reconcile made after the deletion shows none of its rules.
import { describe, expect, it } from "@jest/globals";
import { invalid, throttled } from "../../../support/memory-azure.ts";
import type { HandlerResult, JitPolicy } from "./bench.ts";
import { Bench, FINALIZER, NIC_NSG, NSG, POLICY_KEY, VM, foreignRule, nsgKey, sshPolicy } from "./bench.ts";

const NSG_KEY = nsgKey(NSG);

/** The policy with one VM target instead of the NSG target. */
function vmPolicy(): JitPolicy {
  return sshPolicy({ targets: [{ virtualMachineId: VM }] });
}

function conditions(b: Bench): string[] {
  return (b.storedPolicy()?.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

async function reconciled(b: Bench): Promise<void> {
  b.azure.addNsg(NSG);
  await b.addPolicy();
  await b.reconcileNsg();
  b.kube.writes.splice(0);
  b.takeWakes();
}

type Outcome = { result: HandlerResult } | { error: unknown };

interface Row {
  name: string;
  given(b: Bench): Promise<void>;
  then(b: Bench, o: Outcome): void | Promise<void>;
}

const rows: Row[] = [
  {
    name: "adds its finalizer, then writes a signed resolution; Ready=False until its NSG is reconciled",
    given(b) {
      b.azure.addNsg(NSG);
      b.kube.apply("JitPolicy", sshPolicy());
      return Promise.resolve();
    },
    then(b, o) {
      expect(o).toEqual({ result: {} });
      expect(b.kube.writes).toEqual([
        `setFinalizers JitPolicy team-a/ssh [${FINALIZER}]`,
        "patchStatus JitPolicy team-a/ssh",
      ]);
      expect(b.storedPolicy()?.status?.targetsSignature).toMatch(/^v1\.[0-9a-f]{64}$/);
      expect(conditions(b)).toEqual(
        expect.arrayContaining(["TargetsResolved=True/Resolved", "Ready=False/Reconciling"]),
      );
    },
  },
  {
    name: "Ready=True once every NSG it is bound to has been reconciled",
    async given(b) {
      await reconciled(b);
    },
    async then(b) {
      expect(conditions(b)).toEqual([
        "TargetsResolved=True/Resolved",
        "PriorityConflict=False/NoConflict",
        "BaselineShadowed=False/NotShadowed",
        "Ready=True/Reconciled",
        "Reconciling=False/Reconciled",
        "Stalled=False/NotStalled",
      ]);
      expect(await b.events()).toContain("JitPolicy team-a/ssh Normal Reconciled");
    },
  },
  {
    name: "a foreign rule in its band: PriorityConflict=True, Ready=False, the foreign rule untouched",
    async given(b) {
      b.azure.addNsg(NSG, [foreignRule("portal-https", 150)]);
      await b.addPolicy();
      await b.reconcileNsg();
    },
    async then(b) {
      expect(conditions(b)).toEqual(
        expect.arrayContaining(["PriorityConflict=True/ForeignRuleInBand", "Ready=False/PriorityConflict"]),
      );
      const conflict = b.storedPolicy()?.status?.conditions?.find((c) => c.type === "PriorityConflict");
      expect(conflict?.message).toContain("portal-https (Inbound, priority 150)");
      expect(b.azure.rules(NSG)).toEqual([foreignRule("portal-https", 150)]);
      expect(await b.events()).toContain("JitPolicy team-a/ssh Warning ForeignRuleInBand");
    },
  },
  {
    name: "its NSG does not exist (404): Ready=False NsgError naming the NSG",
    async given(b) {
      await b.addPolicy();
      await b.reconcileNsg();
    },
    then(b) {
      expect(conditions(b)).toContain("Ready=False/NsgError");
      const ready = b.storedPolicy()?.status?.conditions?.find((c) => c.type === "Ready");
      expect(ready?.message).toContain(NSG);
    },
  },
  {
    name: "ARM refuses its baseline deny as invalid (400): Ready=False RuleRefused naming the NSG and rule, Stalled",
    async given(b) {
      b.azure.addNsg(NSG);
      b.azure.fail("putRule", () => invalid("SecurityRuleInvalidPriority", "priority refused"), {
        match: (rule) => rule.toLowerCase().includes("deny"),
      });
      await b.addPolicy();
      await b.reconcileNsg();
    },
    then(b) {
      expect(conditions(b)).toEqual(
        expect.arrayContaining(["Ready=False/RuleRefused", "Stalled=True/RuleRefused"]),
      );
      const ready = b.storedPolicy()?.status?.conditions?.find((c) => c.type === "Ready");
      expect(ready?.message).toContain(NSG);
      expect(ready?.message).toContain("priority refused (SecurityRuleInvalidPriority)");
    },
  },
  {
    name: "resolves a VM target through ARM to its NSGs and private IPs, and binds them",
    given(b) {
      b.azure.addVm({
        id: VM,
        privateIpAddresses: ["10.0.1.4"],
        networkInterfaceNsgIds: [NIC_NSG],
        subnetNsgIds: [],
      });
      b.kube.apply("JitPolicy", vmPolicy());
      return Promise.resolve();
    },
    then(b) {
      expect(b.storedPolicy()?.status?.targets).toEqual([
        { id: VM, privateIpAddresses: ["10.0.1.4"], networkSecurityGroupIds: [NIC_NSG] },
      ]);
      expect(b.bindings.nsgsOf(POLICY_KEY)).toEqual([nsgKey(NIC_NSG)]);
    },
  },
  {
    name: "a VM ARM does not know (404): TargetsResolved=False ResolutionFailed, nothing bound",
    given(b) {
      b.kube.apply("JitPolicy", vmPolicy());
      return Promise.resolve();
    },
    then(b) {
      expect(conditions(b)).toEqual(
        expect.arrayContaining(["TargetsResolved=False/ResolutionFailed", "Ready=False/TargetsUnresolved"]),
      );
      expect(b.bindings.nsgsOf(POLICY_KEY)).toEqual([]);
    },
  },
  {
    name: "a VM read ARM refuses as invalid (400): TargetsResolved=False ResolutionFailed with ARM's message",
    given(b) {
      b.azure.fail("resolveVirtualMachine", () =>
        invalid("InvalidResourceId", "the resource id is malformed"),
      );
      b.kube.apply("JitPolicy", vmPolicy());
      return Promise.resolve();
    },
    then(b, o) {
      expect(o).toEqual({ result: {} });
      expect(conditions(b)).toContain("TargetsResolved=False/ResolutionFailed");
      expect(b.storedPolicy()?.status?.targets).toEqual([
        { id: VM, message: "the resource id is malformed" },
      ]);
    },
  },
  {
    name: "429 while resolving: thrown to the queue with Retry-After, the status left as it was",
    given(b) {
      b.azure.fail("resolveVirtualMachine", () => throttled(12_000));
      b.kube.apply("JitPolicy", vmPolicy());
      return Promise.resolve();
    },
    then(b, o) {
      expect(o).toEqual({ error: expect.objectContaining({ kind: "Throttled", retryAfterMs: 12_000 }) });
      expect(b.kube.writes).toEqual([`setFinalizers JitPolicy team-a/ssh [${FINALIZER}]`]);
      expect(b.storedPolicy()?.status).toBeUndefined();
    },
  },
  {
    name: "deleted: holds its finalizer and wakes its NSG while the NSG still carries its rules",
    async given(b) {
      await reconciled(b);
      b.kube.delete("JitPolicy", POLICY_KEY);
    },
    then(b) {
      expect(b.kube.writes).toEqual([]);
      expect(b.storedPolicy()?.metadata.finalizers).toEqual([FINALIZER]);
      expect(b.takeWakes()).toEqual([`nsg ${NSG_KEY}`]);
      expect(b.rules()).toEqual(["deny-tcp@199"]);
    },
  },
  {
    name: "deleted: an NSG record made before the deletion does not count, even one without its rules",
    async given(b) {
      // A foreign rule in the band: the policy never wrote a rule there.
      b.azure.addNsg(NSG, [foreignRule("portal-https", 150)]);
      await b.addPolicy();
      await b.reconcileNsg();
      expect(b.record()?.policiesWithRules.has(POLICY_KEY)).toBe(false);
      b.kube.writes.splice(0);
      b.takeWakes();
      b.kube.delete("JitPolicy", POLICY_KEY);
    },
    then(b) {
      expect(b.storedPolicy()?.metadata.finalizers).toEqual([FINALIZER]);
      expect(b.takeWakes()).toEqual([`nsg ${NSG_KEY}`]);
    },
  },
  {
    name: "deleted: releases its finalizer with RulesRemoved once an NSG reconcile after the mark shows its rules gone",
    async given(b) {
      await reconciled(b);
      b.kube.delete("JitPolicy", POLICY_KEY);
      await b.reconcilePolicy();
      await b.reconcileNsg();
      expect(b.takeWakes()).toContain(`policy ${POLICY_KEY}`);
    },
    async then(b) {
      expect(b.rules()).toEqual([]);
      expect(b.kube.writes).toEqual(["setFinalizers JitPolicy team-a/ssh []"]);
      expect(b.storedPolicy()).toBeUndefined();
      expect(await b.events()).toContain("JitPolicy team-a/ssh Normal RulesRemoved");
    },
  },
];

describe("PolicyReconciler", () => {
  it.each(rows)("$name", async (row) => {
    const b = new Bench();
    await row.given(b);
    const outcome: Outcome = await b.reconcilePolicy().then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    await row.then(b, outcome);
  });
});
