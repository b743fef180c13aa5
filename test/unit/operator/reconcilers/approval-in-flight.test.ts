// The approval in flight (ADR 0016): the NSGs plan with an approval from the moment it is decided,
// while its finalizer and status are written. Each row holds or fails one of those writes and
// checks that no rule outlives an approval that did not land, on the whole controller in process.
import { describe, expect, it } from "@jest/globals";
import { ApiException } from "@kubernetes/client-node";
import { sshRequest } from "./bench.ts";
import { Held, firstStatusWrite, holdNsgWrites } from "./held-write.ts";
import { stackPerTest, type Stack } from "./stack.ts";
import { FINALIZER } from "../../../../src/api/types.ts";
import type { Notification } from "../../../../src/notify/types.ts";

const ALLOW = "tcp-22@100";
const DENY = "deny-tcp@199";

/** Holds the next status write until the test lets it go; later writes pass. */
function holdFirstStatusWrite(s: Stack): Held {
  const held = new Held();
  s.kube.gate = firstStatusWrite(() => held.promise);
  return held;
}

function refusal(): ApiException<unknown> {
  return new ApiException(403, "Forbidden", { reason: "Forbidden", message: "refused by admission" }, {});
}

/** The request writes the operator made for one request, without the object names. */
function requestWrites(s: Stack, name: string): string[] {
  return s.kube.writes
    .filter((w) => w.includes(`AccessRequest team-a/${name}`))
    .map((w) => w.replace(` AccessRequest team-a/${name}`, ""));
}

/** Notifications (type, reason) of a request approved and Active in one status write. */
const GRANTED_AT_ONCE = [
  ["Requested", "Approved"],
  ["Approved", "Approved"],
  ["Opened", "Granted"],
];

describe("approval in flight", () => {
  const { started } = stackPerTest();

  /** The SSH policy's stack, its notifications collected into `sent`. */
  function startedNotifying(sent: Notification[]): Promise<Stack> {
    return started({ notify: (n) => sent.push(n) });
  }

  it("writes the rule while the approval write is held; Active once it lands", async () => {
    const s = await started();
    const held = holdFirstStatusWrite(s);
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(1000);
    expect(s.rules()).toEqual([DENY, ALLOW]);
    expect(s.request("alice")?.status?.startTime).toBeUndefined();
    held.release();
    await s.run(1000);
    expect(s.phase("alice")).toBe("Active");
    expect(s.rules()).toEqual([DENY, ALLOW]);
  });

  it("an approval write the API server refuses: the rule goes, and the next approval waits for its write", async () => {
    const s = await started();
    const held = new Held();
    let refusals = 0;
    s.kube.gate = (op) => {
      if (op !== "patchStatus") return undefined;
      refusals++;
      return refusals === 1 ? held.promise : Promise.reject(refusal());
    };
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(1000);
    expect(s.rules()).toEqual([DENY, ALLOW]);
    held.refuse(refusal());
    await s.run(1000);
    expect(s.rules()).toEqual([DENY]);
    expect(s.request("alice")?.status?.startTime).toBeUndefined();
    // Decided again with backoff and refused each time: never written to the NSG again meanwhile.
    const allowWrites = (): string[] => s.writes().filter((w) => w.includes("tcp-22"));
    const before = allowWrites();
    await s.run(20_000, 500);
    expect(refusals).toBeGreaterThan(2);
    expect(allowWrites()).toEqual(before);
    expect(s.rules()).toEqual([DENY]);
    // Once the API server takes it, the request is approved and granted as usual.
    s.kube.gate = undefined;
    await s.run(60_000, 500);
    expect(s.phase("alice")).toBe("Active");
    expect(s.rules()).toEqual([DENY, ALLOW]);
  });

  it("an approval lost on the way and decided again: not Active on the rules planned for the first", async () => {
    const s = await started();
    const held = holdFirstStatusWrite(s);
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(1000);
    expect(s.rules()).toEqual([DENY, ALLOW]);
    // The NSG write that takes the first approval's rule out is slow; meanwhile the approval's write
    // fails as a cut connection does, and the request is approved again at once.
    const releaseRemoval = holdNsgWrites(s);
    held.refuse(new TypeError("fetch failed"));
    await s.run(1000);
    expect(s.request("alice")?.status?.startTime).toBeDefined();
    // The NSG still carries the rule, but planned for an approval that did not land: the rule is on
    // its way out, so the request must not claim Active from it.
    expect(s.phase("alice")).not.toBe("Active");
    releaseRemoval();
    const lies: string[] = [];
    for (let t = 0; t < 3000; t += 10) {
      await s.run(10, 10);
      if (s.phase("alice") === "Active" && !s.rules().includes(ALLOW)) lies.push(`${String(t)} ms`);
    }
    expect(lies).toEqual([]);
    expect(s.phase("alice")).toBe("Active");
    expect(s.rules()).toEqual([DENY, ALLOW]);
  });

  it("approved again while the first approval's rule was being written: Active once replanned", async () => {
    const s = await started();
    const held = holdFirstStatusWrite(s);
    const releaseFirstRule = holdNsgWrites(s);
    s.create("AccessRequest", sshRequest("alice"));
    // Past the wait for the rule (2 s): the approval's write is on its way without it.
    await s.run(3000);
    // The approval's write fails while the NSG write of its rule is still on its way; the request
    // is approved again (a new expiresAt) before that NSG write lands.
    held.refuse(new TypeError("fetch failed"));
    await s.run(1000);
    expect(s.request("alice")?.status?.startTime).toBeDefined();
    releaseFirstRule();
    // The next plan of the NSG keeps the rule for the second approval: the request is woken by the
    // placement's new grant, not only by a rule coming or going.
    await s.run(2000);
    expect(s.rules()).toEqual([DENY, ALLOW]);
    expect(s.phase("alice")).toBe("Active");
  });

  it("a request deleted before its finalizer landed: the rule written for it goes", async () => {
    const s = await started();
    const held = new Held();
    s.kube.gate = (op) => (op === "setFinalizers" ? held.promise : undefined);
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(1000);
    expect(s.rules()).toEqual([DENY, ALLOW]);
    // No finalizer yet: the object goes at once, before the operator's writes land.
    s.kube.delete("AccessRequest", "team-a/alice");
    expect(s.request("alice")).toBeUndefined();
    await s.run(1000);
    expect(s.rules()).toEqual([DENY]);
    held.release();
    await s.run(2000);
    expect(s.rules()).toEqual([DENY]);
    expect(requestWrites(s, "alice")).toEqual(["setFinalizers [jit.drawbridge.dev/finalizer]"]);
  });

  it("a request revoked while its approval is in flight: the rule goes, the request ends Revoked", async () => {
    const s = await started();
    const held = new Held();
    s.kube.gate = (op) => (op === "patchStatus" ? held.promise : undefined);
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(1000);
    expect(s.rules()).toEqual([DENY, ALLOW]);
    const r = s.request("alice");
    if (r === undefined) throw new Error("alice is gone");
    s.kube.apply("AccessRequest", { ...r, spec: { ...r.spec, revoked: true } });
    await s.run(1000);
    expect(s.rules()).toEqual([DENY]);
    s.kube.gate = undefined;
    held.release();
    await s.run(2000);
    expect(s.phase("alice")).toBe("Revoked");
    expect(s.rules()).toEqual([DENY]);
  });

  it("two request writes to Active: the finalizer, then the approval and Active in one", async () => {
    const s = await started();
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(2000);
    expect(s.phase("alice")).toBe("Active");
    expect(requestWrites(s, "alice")).toEqual([
      "setFinalizers [jit.drawbridge.dev/finalizer]",
      "patchStatus",
    ]);
  });

  it("a request created with the finalizer (ADR 0022): one request write to Active, notified as any", async () => {
    const sent: Notification[] = [];
    const s = await startedNotifying(sent);
    const born = sshRequest("alice");
    born.metadata.finalizers = [FINALIZER];
    s.create("AccessRequest", born);
    await s.run(2000);
    expect(s.phase("alice")).toBe("Active");
    expect(s.rules()).toEqual([DENY, ALLOW]);
    expect(requestWrites(s, "alice")).toEqual(["patchStatus"]);
    expect(sent.map((n) => [n.type, n.reason])).toEqual(GRANTED_AT_ONCE);
  });

  it("a request created with the finalizer and deleted: revoked first, then released", async () => {
    const s = await started();
    const born = sshRequest("alice");
    born.metadata.finalizers = [FINALIZER];
    s.create("AccessRequest", born);
    await s.run(2000);
    expect(s.rules()).toEqual([DENY, ALLOW]);
    s.kube.delete("AccessRequest", "team-a/alice");
    // Held by the finalizer it was born with until no NSG carries the grant.
    expect(s.request("alice")?.metadata.deletionTimestamp).toBeDefined();
    await s.run(2000);
    expect(s.rules()).toEqual([DENY]);
    expect(s.request("alice")).toBeUndefined();
    expect(requestWrites(s, "alice")).toEqual(["patchStatus", "setFinalizers []"]);
  });

  it("the approval write waits for a slow NSG write, up to 2 s after the decision", async () => {
    const s = await started();
    const releaseNsgWrites = holdNsgWrites(s);
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(1500);
    // Finalizer written; the approval waits for the rule.
    expect(requestWrites(s, "alice")).toEqual(["setFinalizers [jit.drawbridge.dev/finalizer]"]);
    releaseNsgWrites();
    await s.run(1000);
    expect(s.phase("alice")).toBe("Active");
    expect(requestWrites(s, "alice")).toEqual([
      "setFinalizers [jit.drawbridge.dev/finalizer]",
      "patchStatus",
    ]);
  });

  it("an NSG slower than the wait: the approval is written alone, then Active", async () => {
    const s = await started();
    const releaseNsgWrites = holdNsgWrites(s);
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(2500);
    expect(s.request("alice")?.status?.startTime).toBeDefined();
    expect(s.phase("alice")).toBe("Pending");
    expect(s.rules()).toEqual([DENY]);
    releaseNsgWrites();
    await s.run(1000);
    expect(s.phase("alice")).toBe("Active");
    expect(s.rules()).toEqual([DENY, ALLOW]);
    expect(requestWrites(s, "alice")).toEqual([
      "setFinalizers [jit.drawbridge.dev/finalizer]",
      "patchStatus",
      "patchStatus",
    ]);
  });

  it("revoked while the approval waits for its rule: the wait ends, the request ends Revoked", async () => {
    const s = await started();
    const releaseNsgWrites = holdNsgWrites(s);
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(500);
    expect(requestWrites(s, "alice")).toEqual(["setFinalizers [jit.drawbridge.dev/finalizer]"]);
    const r = s.request("alice");
    if (r === undefined) throw new Error("alice is gone");
    s.kube.apply("AccessRequest", { ...r, spec: { ...r.spec, revoked: true } });
    // Well inside the 2 s wait: the approval is written (never as Active) and the request closed.
    await s.run(500);
    expect(requestWrites(s, "alice").length).toBeGreaterThanOrEqual(2);
    expect(s.phase("alice")).toBe("Revoked");
    releaseNsgWrites();
    await s.run(2000);
    expect(s.phase("alice")).toBe("Revoked");
    expect(s.rules()).toEqual([DENY]);
  });

  it("the rule in place before the approval write is sent: one status write says approved and Active", async () => {
    const s = await started();
    const held = new Held();
    s.kube.gate = (op) => (op === "setFinalizers" ? held.promise : undefined);
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(1000);
    expect(s.rules()).toEqual([DENY, ALLOW]);
    held.release();
    await s.run(2000);
    expect(s.phase("alice")).toBe("Active");
    expect(requestWrites(s, "alice")).toEqual([
      "setFinalizers [jit.drawbridge.dev/finalizer]",
      "patchStatus",
    ]);
    const status = s.request("alice")?.status;
    expect(status?.startTime).toBeDefined();
    expect(status?.rules).toHaveLength(1);
    const condition = (type: string): string | undefined =>
      status?.conditions?.find((c) => c.type === type)?.status;
    expect([condition("Approved"), condition("Granted")]).toEqual(["True", "True"]);
    const reasons = s.kube.events.filter((e) => e.name === "team-a/alice").map((e) => e.reason);
    expect(reasons).toEqual(["Approved", "Granted"]);
    expect(s.rules()).toEqual([DENY, ALLOW]);
  });

  it("one write for approval and Active: the notifications are Approved, then Opened, each with its own reason", async () => {
    const sent: Notification[] = [];
    const s = await startedNotifying(sent);
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(2000);
    expect(s.phase("alice")).toBe("Active");
    expect(requestWrites(s, "alice")).toEqual([
      "setFinalizers [jit.drawbridge.dev/finalizer]",
      "patchStatus",
    ]);
    expect(sent.map((n) => [n.type, n.reason])).toEqual(GRANTED_AT_ONCE);
  });

  it("two renewals of one grant decided at once: only one is approved while the first write is held", async () => {
    const s = await started();
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(2000);
    expect(s.phase("alice")).toBe("Active");
    const renewal = (name: string): ReturnType<typeof sshRequest> => {
      const r = sshRequest(name);
      r.spec.requester = "alice";
      r.spec.supersedes = "alice";
      return r;
    };
    const held = holdFirstStatusWrite(s);
    s.create("AccessRequest", renewal("alice-r1"));
    s.create("AccessRequest", renewal("alice-r2"));
    await s.run(1000);
    held.release();
    await s.run(3000);
    const approved = ["alice-r1", "alice-r2"].filter((n) => s.request(n)?.status?.startTime !== undefined);
    expect(approved).toHaveLength(1);
    const other = approved[0] === "alice-r1" ? "alice-r2" : "alice-r1";
    expect(s.phase(other)).toBe("Denied");
  });
});
