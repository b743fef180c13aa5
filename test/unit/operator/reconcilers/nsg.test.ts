// The NSG reconciler, one reconcile at a time over in-memory ARM: what it writes, what it records in
// the ledger for the request and policy reconcilers, whom it wakes, and how it answers each ARM
// failure (429 to the queue with Retry-After, 412 re-planned, 400 recorded as failed, 404 recorded).
import { describe, expect, it } from "@jest/globals";
import { invalid, preconditionFailed, throttled } from "../../../support/memory-azure.ts";
import type { BenchOptions, HandlerResult } from "./bench.ts";
import {
  AZURE_LIMITS,
  Bench,
  NSG,
  POLICY_KEY,
  foreignFiller,
  foreignRule,
  nsgKey,
  sshRequest,
} from "./bench.ts";

const ALICE = "team-a/alice";
const NSG_KEY = nsgKey(NSG);
/** Batching on; each ARM write takes 400 ms, so a hold lasts at most 400 ms (< batch-max-hold). */
const HOLD: BenchOptions = { maxHoldMs: 1000, writeMs: 400 };

/** A policy bound to the NSG, its baseline deny already written. */
async function boundWithDeny(b: Bench): Promise<void> {
  b.azure.addNsg(NSG);
  await b.addPolicy();
  await b.reconcileNsg();
  b.takeWrites();
  b.takeWakes();
}

/** As boundWithDeny, plus alice's request approved (its allow not yet written). */
async function approved(b: Bench): Promise<void> {
  await boundWithDeny(b);
  await b.addRequest(sshRequest("alice"));
  b.takeWakes();
}

/** The first reconcile after alice's approval, held because another request is undecided. */
async function held(b: Bench): Promise<void> {
  await approved(b);
  b.undecided.set(POLICY_KEY, 1);
  const r = await b.reconcileNsg();
  if (r.requeueAfterMs === undefined || r.requeueAfterMs <= 0) throw new Error("the write was not held");
}

type Outcome = { result: HandlerResult } | { error: unknown };

interface Row {
  name: string;
  opts?: BenchOptions;
  given(b: Bench): Promise<void>;
  then(b: Bench, o: Outcome): void;
}

function resultOf(o: Outcome): HandlerResult {
  if ("error" in o) throw new Error(`reconcile failed: ${String(o.error)}`);
  return o.result;
}

const rows: Row[] = [
  {
    name: "writes the baseline deny of a bound policy that has no grants",
    async given(b) {
      b.azure.addNsg(NSG);
      await b.addPolicy();
    },
    then(b, o) {
      expect(resultOf(o)).toEqual({});
      expect(b.takeWrites()).toEqual(["putRule deny-tcp ok"]);
      expect(b.rules()).toEqual(["deny-tcp@199"]);
      expect(b.takeWakes()).toEqual([`policy ${POLICY_KEY}`]);
    },
  },
  {
    name: "places an approved grant at the band's first priority, records it, wakes the request and requeues at expiry",
    given: approved,
    then(b, o) {
      expect(resultOf(o)).toEqual({ requeueAfterMs: 3_600_000 });
      expect(b.takeWrites()).toEqual(["putRule tcp-22 ok"]);
      expect(b.rules()).toEqual(["deny-tcp@199", "tcp-22@100"]);
      const allow = b.azure.rules(NSG)[1];
      expect(allow).toMatchObject({ access: "Allow", destinationPortRange: "22" });
      expect([allow?.sourceAddressPrefix, ...(allow?.sourceAddressPrefixes ?? [])]).toContain(
        "203.0.113.7/32",
      );
      expect(
        b
          .record()
          ?.placements.get(ALICE)
          ?.rules.map((p) => p.priority),
      ).toEqual([100]);
      expect(b.takeWakes()).toEqual([`request ${ALICE}`]);
    },
  },
  {
    name: "writes nothing to an NSG that already carries its plan",
    async given(b) {
      await approved(b);
      await b.reconcileNsg();
      b.takeWrites();
    },
    then(b, o) {
      expect(resultOf(o)).toEqual({ requeueAfterMs: 3_600_000 });
      expect(b.takeWrites()).toEqual([]);
    },
  },
  {
    name: "holds an add-only write while a request of its policy is undecided (batching)",
    opts: HOLD,
    async given(b) {
      await approved(b);
      b.undecided.set(POLICY_KEY, 1);
    },
    then(b, o) {
      // Capped by the duration of one write as observed (the baseline deny's).
      expect(resultOf(o)).toEqual({ requeueAfterMs: 400 });
      expect(b.takeWrites()).toEqual([]);
      expect(b.record()?.placements.has(ALICE)).toBe(false);
    },
  },
  {
    name: "ends a hold as soon as the last undecided request is decided",
    opts: HOLD,
    async given(b) {
      await held(b);
      b.undecided.set(POLICY_KEY, 0);
    },
    then(b) {
      expect(b.takeWrites()).toEqual(["putRule tcp-22 ok"]);
    },
  },
  {
    name: "writes when the hold runs out, though requests are still undecided",
    opts: HOLD,
    async given(b) {
      await held(b);
      b.clock.advance(399);
      expect((await b.reconcileNsg()).requeueAfterMs).toBe(1);
      b.clock.advance(1);
    },
    then(b) {
      expect(b.takeWrites()).toEqual(["putRule tcp-22 ok"]);
    },
  },
  {
    name: "never holds a removal: a lapsed grant's rule goes at once while another request is undecided",
    opts: HOLD,
    async given(b) {
      await boundWithDeny(b);
      await b.activeRequest("alice");
      b.takeWrites();
      b.takeWakes();
      b.clock.advance(3_600_000);
      b.undecided.set(POLICY_KEY, 1);
    },
    then(b, o) {
      expect(resultOf(o)).toEqual({});
      expect(b.takeWrites()).toEqual(["deleteRule tcp-22 ok"]);
      expect(b.record()?.placements.has(ALICE)).toBe(false);
      expect(b.takeWakes()).toContain(`request ${ALICE}`);
    },
  },
  {
    name: "a foreign rule in the band: PriorityConflict for the policy, nothing written, the foreign rule untouched",
    async given(b) {
      b.azure.addNsg(NSG, [foreignRule("portal-https", 150)]);
      await b.addPolicy();
      await b.addRequest(sshRequest("alice"));
      b.takeWakes();
    },
    then(b, o) {
      expect(resultOf(o)).toEqual({ requeueAfterMs: 3_600_000 });
      expect(b.takeWrites()).toEqual([]);
      expect(b.azure.rules(NSG)).toEqual([foreignRule("portal-https", 150)]);
      expect(b.record()?.conflicts).toMatchObject([
        { policyKey: POLICY_KEY, ruleName: "portal-https", priority: 150 },
      ]);
      expect(b.record()?.rejected.get(ALICE)?.reason).toBe("PriorityConflict");
      expect(b.takeWakes()).toEqual(expect.arrayContaining([`policy ${POLICY_KEY}`, `request ${ALICE}`]));
    },
  },
  {
    name: "an NSG at Azure's rule limit: the grant is rejected CapacityExceeded and no allow is written",
    async given(b) {
      // The baseline deny takes the last free rule.
      b.azure.addNsg(NSG, foreignFiller(AZURE_LIMITS.rulesPerNsg - 1));
      await b.addPolicy();
      await b.reconcileNsg();
      b.takeWrites();
      await b.addRequest(sshRequest("alice"));
    },
    then(b) {
      expect(b.takeWrites()).toEqual([]);
      const rejected = b.record()?.rejected.get(ALICE);
      expect(rejected?.reason).toBe("CapacityExceeded");
      expect(rejected?.message).toContain("limit of 1000 security rules");
      expect(b.azure.rules(NSG)).toHaveLength(AZURE_LIMITS.rulesPerNsg);
    },
  },
  {
    name: "429: the error goes to the queue with ARM's Retry-After, and nothing is recorded",
    async given(b) {
      b.azure.addNsg(NSG);
      await b.addPolicy();
      b.azure.fail("putRule", () => throttled(7000));
    },
    then(b, o) {
      expect(o).toEqual({ error: expect.objectContaining({ kind: "Throttled", retryAfterMs: 7000 }) });
      expect(b.takeWrites()).toEqual(["putRule deny-tcp Throttled"]);
      expect(b.record()).toBeUndefined();
      expect(b.rules()).toEqual([]);
    },
  },
  {
    name: "412 (nsg write mode): re-reads, re-plans and keeps the concurrent foreign change",
    opts: { writeMode: "nsg" },
    async given(b) {
      b.azure.addNsg(NSG);
      await b.addPolicy();
      b.azure.fail("replaceRules", () => {
        b.azure.foreignPut(NSG, foreignRule("portal-rdp", 3000));
        return preconditionFailed();
      });
    },
    then(b, o) {
      expect(resultOf(o)).toEqual({});
      expect(b.takeWrites()).toEqual([
        "replaceRules deny-tcp PreconditionFailed",
        "replaceRules portal-rdp,deny-tcp ok",
      ]);
      expect(b.rules()).toEqual(["portal-rdp@3000", "deny-tcp@199"]);
    },
  },
  {
    name: "400 on an allow rule: recorded as failed for the request with ARM's code, not thrown, not placed",
    async given(b) {
      await approved(b);
      b.azure.fail("putRule", () => invalid("SecurityRuleInvalidPortRange", "port range refused"), {
        match: (rule) => rule.endsWith("-tcp-22"),
      });
    },
    then(b, o) {
      expect(resultOf(o)).toEqual({ requeueAfterMs: 3_600_000 });
      expect(b.takeWrites()).toEqual(["putRule tcp-22 Invalid"]);
      expect(b.record()?.failed.get(ALICE)).toEqual({
        reason: "SecurityRuleInvalidPortRange",
        message: "port range refused",
      });
      expect(b.record()?.placements.has(ALICE)).toBe(false);
      expect(b.takeWakes()).toContain(`request ${ALICE}`);
    },
  },
  {
    name: "400 on the whole-NSG PUT (nsg write mode): every grant of the plan is recorded as failed",
    opts: { writeMode: "nsg" },
    async given(b) {
      await approved(b);
      b.azure.fail("replaceRules", () => invalid());
    },
    then(b) {
      expect(b.takeWrites()).toEqual(["replaceRules tcp-22,deny-tcp Invalid"]);
      expect(b.record()?.failed.get(ALICE)?.reason).toBe("SecurityRuleInvalidPortRange");
    },
  },
  {
    name: "404: the NSG is recorded as NsgNotFound for its policy and looked at again in 30 s",
    async given(b) {
      await b.addPolicy();
    },
    then(b, o) {
      expect(resultOf(o)).toEqual({ requeueAfterMs: 30_000 });
      expect(b.record()?.error?.reason).toBe("NsgNotFound");
      expect(b.takeWakes()).toEqual([`policy ${POLICY_KEY}`]);
    },
  },
  {
    name: "nsg write mode: one PUT of the whole NSG carries the allow and the deny",
    opts: { writeMode: "nsg" },
    async given(b) {
      b.azure.addNsg(NSG);
      await b.addPolicy();
      await b.addRequest(sshRequest("alice"));
    },
    then(b) {
      expect(b.takeWrites()).toEqual(["replaceRules tcp-22,deny-tcp ok"]);
      expect(b.record()?.placements.has(ALICE)).toBe(true);
    },
  },
];

describe("NsgReconciler", () => {
  it.each(rows)("$name", async (row) => {
    const b = new Bench(row.opts);
    await row.given(b);
    const outcome: Outcome = await b.nsg.reconcile(NSG_KEY).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    row.then(b, outcome);
  });
});
