// An approval's status write whose outcome is unknown (ADR 0021): the client saw a timeout, but the
// API server may have applied the write. The request is read back before the approval is withdrawn,
// so a write that landed keeps its rule (the status says Active and the NSG agrees), and one that
// did not is withdrawn as before. On the whole controller in process, the watch lagging the writes.
import { describe, expect, it } from "@jest/globals";
import { sshRequest } from "./bench.ts";
import { firstStatusWrite } from "./held-write.ts";
import { stackPerTest, type Stack } from "./stack.ts";

const ALLOW = "tcp-22@100";
const DENY = "deny-tcp@199";
const KEY = "team-a/alice";

/** What undici's fetch throws when the reply does not come in time: the request was sent. */
function timeout(): Error {
  const cause = Object.assign(new Error("Headers Timeout Error"), { code: "UND_ERR_HEADERS_TIMEOUT" });
  return new TypeError("fetch failed", { cause });
}

/** The API server out of reach before anything is sent. */
function refused(): Error {
  const cause = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" });
  return new TypeError("fetch failed", { cause });
}

/** The first status write of the request applies, but its reply is lost (and its watch lags). */
function loseFirstStatusReply(s: Stack): void {
  s.kube.lostReply = firstStatusWrite(timeout);
}

/** ARM writes that took the grant's rule out of the NSG. */
function removals(s: Stack): string[] {
  return s.writes().filter((w) => w.includes("tcp-22") && !w.startsWith("put"));
}

/** Runs `ms` in 10 ms steps; returns the moments the request said Active without its rule in the NSG. */
async function activeWithoutRule(s: Stack, ms: number): Promise<string[]> {
  const lies: string[] = [];
  for (let t = 0; t < ms; t += 10) {
    await s.run(10, 10);
    if (s.phase("alice") === "Active" && !s.rules().includes(ALLOW)) lies.push(`${String(t)} ms`);
  }
  return lies;
}

describe("approval write whose outcome is unknown", () => {
  const { started } = stackPerTest();

  it("landed but timed out (approval and Active in one write): read back, the rule never leaves, Active", async () => {
    const s = await started();
    loseFirstStatusReply(s);
    s.create("AccessRequest", sshRequest("alice"));
    // The watch has not delivered the write for 5 s: only the read back tells that it landed.
    expect(await activeWithoutRule(s, 5000)).toEqual([]);
    expect(s.phase("alice")).toBe("Active");
    expect(s.kube.reads).toBe(1);
    expect(removals(s)).toEqual([]);
    expect(s.rules()).toEqual([DENY, ALLOW]);
    s.kube.deliver(KEY);
    expect(await activeWithoutRule(s, 2000)).toEqual([]);
    expect(removals(s)).toEqual([]);
    expect(s.rules()).toEqual([DENY, ALLOW]);
    // One status write (the combined one), its records as if its reply had come.
    expect(s.kube.writes.filter((w) => w.startsWith("patchStatus AccessRequest"))).toHaveLength(1);
    const reasons = s.kube.events.filter((e) => e.name === KEY).map((e) => e.reason);
    expect(reasons).toEqual(["Approved", "Granted"]);
  });

  it("timed out and did not land: read back, the grant is withdrawn and the rule goes", async () => {
    const s = await started();
    s.kube.gate = firstStatusWrite(() => Promise.reject(timeout()));
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(2100, 10);
    expect(s.kube.reads).toBe(1);
    expect(removals(s)).not.toEqual([]);
    // Approved again (its write before any NSG plans with it), and only then granted.
    expect(await activeWithoutRule(s, 5000)).toEqual([]);
    expect(s.phase("alice")).toBe("Active");
    expect(s.rules()).toEqual([DENY, ALLOW]);
  });

  it("a write refused before it was sent is not read back: withdrawn at once", async () => {
    const s = await started();
    s.kube.gate = firstStatusWrite(() => Promise.reject(refused()));
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(2100, 10);
    expect(s.kube.reads).toBe(0);
    expect(removals(s)).not.toEqual([]);
    expect(await activeWithoutRule(s, 5000)).toEqual([]);
    expect(s.phase("alice")).toBe("Active");
  });

  it("landed, but the read back fails twice: the grant stays in flight until a read tells", async () => {
    const s = await started();
    loseFirstStatusReply(s);
    let failures = 2;
    s.kube.readGate = () => (failures-- > 0 ? timeout() : undefined);
    s.create("AccessRequest", sshRequest("alice"));
    expect(await activeWithoutRule(s, 6000)).toEqual([]);
    expect(s.kube.reads).toBe(3);
    expect(removals(s)).toEqual([]);
    expect(s.phase("alice")).toBe("Active");
    expect(s.rules()).toEqual([DENY, ALLOW]);
    const reasons = s.kube.events.filter((e) => e.name === KEY).map((e) => e.reason);
    expect(reasons).toEqual(["Approved", "Granted"]);
  });

  it("the read back never succeeds: after a bounded number of reads the grant is withdrawn", async () => {
    const s = await started();
    loseFirstStatusReply(s);
    s.kube.readGate = () => timeout();
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(30_000, 100);
    expect(s.kube.reads).toBe(5);
    expect(removals(s)).not.toEqual([]);
    // Once the watch catches up, the landed approval grants again.
    s.kube.readGate = undefined;
    s.kube.deliver(KEY);
    await s.run(3000, 100);
    expect(s.phase("alice")).toBe("Active");
    expect(s.rules()).toEqual([DENY, ALLOW]);
  });

  it("landed, but the read shows the request revoked: withdrawn, the request ends Revoked", async () => {
    const s = await started();
    loseFirstStatusReply(s);
    s.kube.readGate = (key) => {
      const r = s.request("alice");
      if (r !== undefined && r.spec.revoked !== true)
        s.kube.apply("AccessRequest", { ...r, spec: { ...r.spec, revoked: true } });
      return key === KEY ? undefined : timeout();
    };
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(3000, 10);
    expect(s.kube.reads).toBe(1);
    expect(s.rules()).toEqual([DENY]);
    s.kube.deliver(KEY);
    await s.run(3000, 100);
    expect(s.phase("alice")).toBe("Revoked");
    expect(s.rules()).toEqual([DENY]);
  });
});
