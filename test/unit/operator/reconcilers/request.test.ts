// The AccessRequest reconciler, one reconcile of "team-a/alice" at a time: from the caches and the NSG
// ledger to its phase, conditions, finalizer, Events and NSG wake-ups. ARM's answers reach it only
// through the ledger, so each row drives the NSG reconciler over in-memory ARM to get there.
import { describe, expect, it } from "@jest/globals";
import { invalid } from "../../../support/memory-azure.ts";
import type { HandlerResult } from "./bench.ts";
import {
  AZURE_LIMITS,
  Bench,
  FINALIZER,
  NSG,
  foreignFiller,
  foreignRule,
  nsgKey,
  sshRequest,
} from "./bench.ts";

const NSG_KEY = nsgKey(NSG);
const HOUR = 3_600_000;

async function bound(b: Bench, rules = [] as ReturnType<typeof foreignFiller>): Promise<void> {
  b.azure.addNsg(NSG, rules);
  await b.addPolicy();
  await b.reconcileNsg();
}

/** Alice approved (her allow rule not written yet), logs cleared. */
async function approved(b: Bench): Promise<void> {
  await bound(b);
  await b.addRequest(sshRequest("alice"));
  clear(b);
}

async function active(b: Bench): Promise<void> {
  await bound(b);
  await b.activeRequest("alice");
  clear(b);
}

function clear(b: Bench): void {
  b.kube.writes.splice(0);
  b.takeWakes();
  b.takeWrites();
}

function conditions(b: Bench): string[] {
  return (b.storedRequest("alice")?.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

/** NSG reconciles started by a row and still in flight when the request reconcile runs. */
const inFlight = new WeakMap<Bench, Promise<unknown>>();

interface Row {
  name: string;
  given(b: Bench): Promise<void>;
  then(b: Bench, r: HandlerResult): void | Promise<void>;
}

const rows: Row[] = [
  {
    name: "approves an undecided request: finalizer first, then a signed approval, and wakes the policy's NSG",
    async given(b) {
      await bound(b);
      b.kube.apply("AccessRequest", sshRequest("alice"));
      clear(b);
    },
    async then(b, r) {
      expect(r).toEqual({ requeueAfterMs: HOUR });
      expect(b.kube.writes).toEqual([
        `setFinalizers AccessRequest team-a/alice [${FINALIZER}]`,
        "patchStatus AccessRequest team-a/alice",
      ]);
      const status = b.storedRequest("alice")?.status;
      expect(status).toMatchObject({
        phase: "Pending",
        startTime: "2026-01-01T09:00:00.000Z",
        expiresAt: "2026-01-01T10:00:00.000Z",
        reason: "Approved",
      });
      expect(status?.approvalSignature).toMatch(/^v1\.[0-9a-f]{64}$/);
      expect(b.takeWakes()).toEqual([`nsg ${NSG_KEY}`]);
      expect((await b.events()).filter((e) => e.startsWith("AccessRequest"))).toEqual([
        "AccessRequest team-a/alice Normal Approved",
      ]);
    },
  },
  {
    name: "stays Pending, writing nothing, until the NSG carries its rule",
    given: approved,
    then(b, r) {
      expect(r).toEqual({ requeueAfterMs: HOUR });
      expect(b.kube.writes).toEqual([]);
      expect(b.storedRequest("alice")?.status?.phase).toBe("Pending");
    },
  },
  {
    name: "turns Active once the ledger places its rule, listing the rule in status.rules",
    async given(b) {
      await approved(b);
      await b.reconcileNsg();
      b.takeWakes();
    },
    async then(b, r) {
      expect(r).toEqual({ requeueAfterMs: HOUR });
      const status = b.storedRequest("alice")?.status;
      expect(status?.phase).toBe("Active");
      expect(status?.rules).toMatchObject([{ networkSecurityGroupId: NSG, priority: 100, port: 22 }]);
      expect(conditions(b)).toContain("Granted=True/RulesInPlace");
      // Its rule's NSG is woken again at expiry, so the rule goes on time.
      expect(b.takeWakes()).toEqual([`nsg ${NSG_KEY} +${String(HOUR)}`]);
      expect(await b.events()).toContain("AccessRequest team-a/alice Normal Granted");
    },
  },
  {
    name: "closes Failed when ARM refuses its allow rule as invalid (400), with ARM's code as the reason",
    async given(b) {
      await approved(b);
      b.azure.fail("putRule", () => invalid("SecurityRuleInvalidPortRange", "port range refused"), {
        match: (rule) => rule.endsWith("-tcp-22"),
      });
      await b.reconcileNsg();
      b.takeWakes();
    },
    async then(b, r) {
      const status = b.storedRequest("alice")?.status;
      expect(status).toMatchObject({
        phase: "Failed",
        reason: "SecurityRuleInvalidPortRange",
        message: "port range refused",
        rules: [],
      });
      expect(conditions(b)).toEqual(
        expect.arrayContaining(["Granted=False/SecurityRuleInvalidPortRange", "Closed=True/Failed"]),
      );
      // Kept for the retention period, and its NSG woken so nothing of the grant stays behind.
      expect(r).toEqual({ requeueAfterMs: HOUR });
      expect(b.takeWakes()).toContain(`nsg ${NSG_KEY}`);
      expect(await b.events()).toContain("AccessRequest team-a/alice Warning Failed");
      expect(b.rules()).toEqual(["deny-tcp@199"]);
    },
  },
  {
    name: "closes Denied PriorityConflict when a foreign rule sits in the policy's band",
    async given(b) {
      await bound(b, [foreignRule("portal-https", 150)]);
      await b.addRequest(sshRequest("alice"));
      await b.reconcileNsg();
    },
    then(b) {
      expect(b.storedRequest("alice")?.status).toMatchObject({ phase: "Denied", reason: "PriorityConflict" });
      expect(b.azure.rules(NSG)).toEqual([foreignRule("portal-https", 150)]);
    },
  },
  {
    name: "closes Denied CapacityExceeded when the NSG is at Azure's rule limit",
    async given(b) {
      await bound(b, foreignFiller(AZURE_LIMITS.rulesPerNsg - 1));
      await b.addRequest(sshRequest("alice"));
      await b.reconcileNsg();
    },
    then(b) {
      expect(b.storedRequest("alice")?.status).toMatchObject({ phase: "Denied", reason: "CapacityExceeded" });
    },
  },
  {
    name: "denies, without approving, a request from a source the policy does not allow",
    async given(b) {
      await bound(b);
      b.kube.apply("AccessRequest", sshRequest("alice", "198.51.100.1/32"));
      clear(b);
    },
    then(b, r) {
      const status = b.storedRequest("alice")?.status;
      expect(status?.phase).toBe("Denied");
      expect(status?.startTime).toBeUndefined();
      expect(conditions(b)).toContain(`Approved=False/${status?.reason ?? ""}`);
      expect(r).toEqual({ requeueAfterMs: 600_000 });
      expect(b.takeWakes()).toEqual([]);
    },
  },
  {
    name: "closes Expired at expiresAt and wakes the NSG to remove the rule",
    async given(b) {
      await active(b);
      b.clock.advance(HOUR);
    },
    then(b) {
      expect(b.storedRequest("alice")?.status).toMatchObject({ phase: "Expired", reason: "Expired" });
      expect(b.takeWakes()).toEqual([`nsg ${NSG_KEY}`]);
    },
  },
  {
    name: "closes Revoked when spec.revoked is set",
    async given(b) {
      await active(b);
      const r = b.storedRequest("alice");
      if (r !== undefined) b.kube.apply("AccessRequest", { ...r, spec: { ...r.spec, revoked: true } });
    },
    then(b) {
      expect(b.storedRequest("alice")?.status).toMatchObject({ phase: "Revoked", reason: "RevokedByUser" });
      expect(b.takeWakes()).toEqual([`nsg ${NSG_KEY}`]);
    },
  },
  {
    name: "closes Denied ApprovalNotAuthentic when the approval was not written by the operator",
    async given(b) {
      await approved(b);
      const r = b.storedRequest("alice");
      // Someone with status rights stretches the approval; the signature no longer verifies.
      if (r?.status !== undefined)
        b.kube.apply("AccessRequest", {
          ...r,
          status: { ...r.status, expiresAt: "2026-01-02T09:00:00.000Z" },
        });
    },
    then(b) {
      expect(b.storedRequest("alice")?.status).toMatchObject({
        phase: "Denied",
        reason: "ApprovalNotAuthentic",
      });
      expect(b.grants.forRequest("team-a/alice", b.clock.now())).toEqual([]);
    },
  },
  {
    name: "deleted while Active: keeps its finalizer and waits on the NSG (ledger mark taken)",
    async given(b) {
      await active(b);
      b.kube.delete("AccessRequest", "team-a/alice");
    },
    then(b) {
      expect(b.storedRequest("alice")?.metadata.finalizers).toEqual([FINALIZER]);
      expect(b.kube.writes).toEqual([]);
      expect(b.takeWakes()).toEqual([`nsg ${NSG_KEY}`]);
      // The record the NSG had before the deletion does not count; the next one wakes the request.
      expect(b.ledger.takeWaiters(NSG_KEY)).toEqual(["team-a/alice"]);
    },
  },
  {
    name: "deleted while Active: a second look before any NSG reconcile still holds the finalizer",
    async given(b) {
      await active(b);
      b.kube.delete("AccessRequest", "team-a/alice");
      await b.reconcileRequest("alice");
    },
    then(b) {
      expect(b.storedRequest("alice")?.metadata.finalizers).toEqual([FINALIZER]);
      expect(b.rules()).toContain("tcp-22@100");
    },
  },
  {
    name: "deleted while Active: releases the finalizer once an NSG reconcile after the mark shows the rule gone",
    async given(b) {
      await active(b);
      b.kube.delete("AccessRequest", "team-a/alice");
      await b.reconcileRequest("alice");
      await b.reconcileNsg();
      expect(b.takeWakes()).toContain("request team-a/alice");
    },
    async then(b) {
      expect(b.rules()).toEqual(["deny-tcp@199"]);
      expect(b.kube.writes).toEqual(["setFinalizers AccessRequest team-a/alice []"]);
      expect(b.storedRequest("alice")).toBeUndefined();
      expect(await b.events()).toContain("AccessRequest team-a/alice Normal Revoked");
    },
  },
  {
    name: "deleted while an NSG write carrying its grant is in flight: the older record does not release the finalizer (ledger mark)",
    async given(b) {
      await approved(b);
      // The reconcile takes its sequence number and gathers alice's grant now, then awaits ARM.
      inFlight.set(b, b.reconcileNsg());
      b.kube.delete("AccessRequest", "team-a/alice");
      expect(b.record()?.placements.has("team-a/alice")).toBe(false);
    },
    async then(b) {
      expect(b.storedRequest("alice")?.metadata.finalizers).toEqual([FINALIZER]);
      await inFlight.get(b);
      expect(b.rules()).toContain("tcp-22@100");
      // The next NSG reconcile removes the rule; only then does the finalizer go.
      await b.reconcileNsg();
      await b.reconcileRequest("alice");
      expect(b.rules()).toEqual(["deny-tcp@199"]);
      expect(b.storedRequest("alice")).toBeUndefined();
    },
  },
  {
    name: "deleted before approval: releases its finalizer at once",
    async given(b) {
      await bound(b);
      await b.addRequest(sshRequest("alice", "198.51.100.1/32"));
      clear(b);
      b.kube.delete("AccessRequest", "team-a/alice");
    },
    then(b) {
      expect(b.kube.writes).toEqual(["setFinalizers AccessRequest team-a/alice []"]);
      expect(b.storedRequest("alice")).toBeUndefined();
    },
  },
  {
    name: "deletes a Denied request once its retention period is over",
    async given(b) {
      await bound(b);
      await b.addRequest(sshRequest("alice", "198.51.100.1/32"));
      clear(b);
      b.clock.advance(600_000);
    },
    then(b) {
      expect(b.kube.writes).toEqual(["deleteObject AccessRequest team-a/alice"]);
      expect(b.storedRequest("alice")?.metadata.deletionTimestamp).toBeDefined();
    },
  },
];

describe("RequestReconciler", () => {
  it.each(rows)("$name", async (row) => {
    const b = new Bench();
    await row.given(b);
    const r = await b.reconcileRequest("alice");
    await row.then(b, r);
  });
});
