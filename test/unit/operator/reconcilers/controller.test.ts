// The controller end to end in process: informer events, the three work queues and the reconcilers
// over in-memory Kubernetes and ARM, on a fake clock. Every row starts from a policy on one NSG whose
// baseline deny is written, then acts and checks what the cluster and the NSG show.
import { describe, expect, it, jest } from "@jest/globals";
import { invalid, throttled } from "../../../support/memory-azure.ts";
import type { SecurityRule } from "./bench.ts";
import { AZURE_LIMITS, NSG, POLICY_KEY, foreignFiller, foreignRule, sshPolicy, sshRequest } from "./bench.ts";
import type { StackOptions } from "./stack.ts";
import { stackPerTest, type Stack } from "./stack.ts";

const HOUR = 3_600_000;
const BURST = ["bob", "carol", "dave", "erin"];

function allowWrites(s: Stack): string[] {
  return s.writes().filter((w) => w.includes("tcp-22"));
}

interface Row {
  name: string;
  opts?: StackOptions;
  /** Rules the NSG holds before the operator starts. */
  nsg?: SecurityRule[];
  act(s: Stack): Promise<void>;
}

const rows: Row[] = [
  {
    name: "a created request ends Active with its allow rule in the NSG",
    async act(s) {
      s.create("AccessRequest", sshRequest("alice"));
      await s.run(2000);
      expect(s.phase("alice")).toBe("Active");
      expect(s.rules()).toEqual(["deny-tcp@199", "tcp-22@100"]);
      expect(s.request("alice")?.status?.rules).toMatchObject([
        { ruleName: expect.stringMatching(/-tcp-22$/) },
      ]);
    },
  },
  {
    name: "a burst of requests created together rides one NSG write (batching hold)",
    opts: { batchMaxHoldMs: 2000 },
    async act(s) {
      BURST.forEach((n, i) => {
        s.create("AccessRequest", sshRequest(n, `203.0.113.${String(10 + i)}/32`));
      });
      await s.run(3000);
      expect(BURST.map((n) => s.phase(n))).toEqual(["Active", "Active", "Active", "Active"]);
      expect(allowWrites(s)).toEqual(["putRule tcp-22 ok"]);
    },
  },
  {
    name: "without batching the same burst takes more than one NSG write",
    opts: { batchMaxHoldMs: 0 },
    async act(s) {
      BURST.forEach((n, i) => {
        s.create("AccessRequest", sshRequest(n, `203.0.113.${String(10 + i)}/32`));
      });
      await s.run(3000);
      expect(BURST.map((n) => s.phase(n))).toEqual(["Active", "Active", "Active", "Active"]);
      expect(allowWrites(s).length).toBeGreaterThan(1);
    },
  },
  {
    name: "429 with Retry-After: the NSG write is retried when ARM said, not before",
    async act(s) {
      s.azure.fail("putRule", () => throttled(5000), { match: (rule) => rule.endsWith("-tcp-22") });
      s.create("AccessRequest", sshRequest("alice"));
      await s.run(4500);
      expect(allowWrites(s)).toEqual(["putRule tcp-22 Throttled"]);
      expect(s.phase("alice")).toBe("Pending");
      await s.run(1500);
      expect(allowWrites(s)).toEqual(["putRule tcp-22 Throttled", "putRule tcp-22 ok"]);
      expect(s.phase("alice")).toBe("Active");
    },
  },
  {
    name: "400 from ARM on the allow rule: the request ends Failed with ARM's code, the baseline deny stays",
    async act(s) {
      // ARM refuses that body every time it is sent.
      s.azure.fail("putRule", () => invalid("SecurityRuleInvalidPortRange", "port range refused"), {
        match: (rule) => rule.endsWith("-tcp-22"),
        times: Infinity,
      });
      s.create("AccessRequest", sshRequest("alice"));
      await s.run(3000);
      expect(s.request("alice")?.status).toMatchObject({
        phase: "Failed",
        reason: "SecurityRuleInvalidPortRange",
        message: "port range refused",
      });
      // Not retried with backoff: the approval's wake-ups make an attempt or two, then none.
      const attempts = allowWrites(s);
      expect(attempts.length).toBeGreaterThan(0);
      expect(new Set(attempts)).toEqual(new Set(["putRule tcp-22 Invalid"]));
      await s.run(120_000, 1000);
      expect(allowWrites(s)).toEqual(attempts);
      expect(s.rules()).toEqual(["deny-tcp@199"]);
    },
  },
  {
    name: "a foreign rule in the band: the request is Denied PriorityConflict, the policy says so, the rule untouched",
    nsg: [foreignRule("portal-https", 150)],
    async act(s) {
      s.create("AccessRequest", sshRequest("alice"));
      await s.run(2000);
      expect(s.request("alice")?.status).toMatchObject({ phase: "Denied", reason: "PriorityConflict" });
      const conflict = s.policy()?.status?.conditions?.find((c) => c.type === "PriorityConflict");
      expect(conflict).toMatchObject({ status: "True", reason: "ForeignRuleInBand" });
      expect(s.azure.rules(NSG)).toEqual([foreignRule("portal-https", 150)]);
      expect(s.writes()).toEqual([]);
    },
  },
  {
    name: "an NSG at Azure's rule limit: the request is Denied CapacityExceeded",
    nsg: foreignFiller(AZURE_LIMITS.rulesPerNsg - 1),
    async act(s) {
      s.create("AccessRequest", sshRequest("alice"));
      await s.run(2000);
      expect(s.request("alice")?.status).toMatchObject({ phase: "Denied", reason: "CapacityExceeded" });
      expect(allowWrites(s)).toEqual([]);
    },
  },
  {
    name: "at expiresAt the allow rule goes and the request is Expired",
    async act(s) {
      s.create("AccessRequest", sshRequest("alice"));
      await s.run(2000);
      expect(s.phase("alice")).toBe("Active");
      await s.run(HOUR - 3000, 60_000);
      expect(s.rules()).toContain("tcp-22@100");
      await s.run(2000);
      expect(s.rules()).toEqual(["deny-tcp@199"]);
      expect(s.phase("alice")).toBe("Expired");
    },
  },
  {
    name: "deleting an Active request removes its rule, then its finalizer, then the object",
    async act(s) {
      s.create("AccessRequest", sshRequest("alice"));
      await s.run(2000);
      s.kube.delete("AccessRequest", "team-a/alice");
      await s.run(2000);
      expect(s.rules()).toEqual(["deny-tcp@199"]);
      expect(s.request("alice")).toBeUndefined();
      expect(s.kube.writes).toContain("setFinalizers AccessRequest team-a/alice []");
    },
  },
  {
    name: "a policy admitted but refused by the operator (band too small) writes nothing; its status says why",
    async act(s) {
      const before = s.writes().length;
      const narrow = sshPolicy({ priorityRange: { from: 300, to: 300 } });
      narrow.metadata = { ...narrow.metadata, name: "narrow", uid: "uid-narrow" };
      s.create("JitPolicy", narrow);
      await s.run(3000);
      expect(s.writes().slice(before)).toEqual([]);
      expect(s.rules()).toEqual(["deny-tcp@199"]);
      const ready = s.policy("narrow")?.status?.conditions?.find((c) => c.type === "Ready");
      expect(ready).toMatchObject({ status: "False", reason: "InvalidSpec" });
      expect(ready?.message).toContain("PriorityBandTooSmall");
    },
  },
  {
    name: "an edit the operator refuses keeps the policy's rules as they were",
    async act(s) {
      s.create("AccessRequest", sshRequest("alice"));
      await s.run(2000);
      expect(s.rules()).toEqual(["deny-tcp@199", "tcp-22@100"]);
      const before = s.writes().length;
      const edited = sshPolicy({ priorityRange: { from: 150, to: 150 } });
      edited.metadata = { ...edited.metadata, generation: 2 };
      s.create("JitPolicy", edited);
      await s.run(3000);
      expect(
        s
          .writes()
          .slice(before)
          .filter((w) => !w.includes("tcp-22")),
      ).toEqual([]);
      expect(s.rules()).toContain("deny-tcp@199");
    },
  },
  {
    name: "a policy's status write leaves its requests' grants indexed; a new spec marks them changed",
    async act(s) {
      s.create("AccessRequest", sshRequest("alice"));
      await s.run(2000);
      expect(s.phase("alice")).toBe("Active");
      const marked = jest.spyOn(s.controller.grants, "invalidatePolicy");
      const stored = s.policy();
      if (stored === undefined) throw new Error("no policy");
      await s.kube.patchStatus("JitPolicy", stored.metadata, { ...stored.status, observedGeneration: 7 });
      await s.run(500);
      expect(marked).not.toHaveBeenCalled();
      const edited = sshPolicy({ nsgScope: "All", priorityRange: { from: 100, to: 198 } });
      edited.metadata = { ...edited.metadata, generation: 2 };
      s.create("JitPolicy", edited);
      await s.run(2000);
      expect(marked).toHaveBeenCalledWith(POLICY_KEY);
      expect(s.phase("alice")).toBe("Active");
      expect(s.rules()).toEqual(["deny-tcp@198", "tcp-22@100"]);
    },
  },
  {
    name: "deleting the policy removes its rules from the NSG, then releases its finalizer",
    async act(s) {
      s.kube.delete("JitPolicy", POLICY_KEY);
      await s.run(2000);
      expect(s.rules()).toEqual([]);
      expect(s.policy()).toBeUndefined();
      expect(s.kube.events.map((e) => e.reason)).toContain("RulesRemoved");
    },
  },
];

describe("Controller", () => {
  const { make } = stackPerTest();

  it.each(rows)("$name", async (row) => {
    const s = make(row.opts);
    s.azure.addNsg(NSG, row.nsg ?? []);
    s.create("JitPolicy", sshPolicy());
    s.start();
    await s.run(2000);
    if (row.nsg === undefined) expect(s.rules()).toEqual(["deny-tcp@199"]);
    await row.act(s);
  });
});
