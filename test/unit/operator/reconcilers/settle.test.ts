// The NSG batching hold (ADR 0005) against the approvals in flight (ADR 0016): a request's creation
// counts as an arrival for the settle period, the operator's own later writes to it do not.
import { describe, expect, it } from "@jest/globals";
import { sshPolicy, sshRequest, NSG } from "./bench.ts";
import { Held } from "./held-write.ts";
import { stackPerTest } from "./stack.ts";

describe("batching hold and approvals in flight", () => {
  const { make } = stackPerTest();

  it("an earlier request's finalizer landing does not restart the settle period", async () => {
    const s = make({ batchMaxHoldMs: 2000, writeMs: 400 });
    s.azure.addNsg(NSG, []);
    s.create("JitPolicy", sshPolicy());
    s.start();
    await s.run(3000);
    const aliceFinalizer = new Held();
    s.kube.gate = (op, key) =>
      op === "setFinalizers" && key === "team-a/alice" ? aliceFinalizer.promise : undefined;
    s.create("AccessRequest", sshRequest("alice"));
    await s.run(2000, 10);
    expect(s.rules()).toContain("tcp-22@100");
    // bob arrives; alice's finalizer lands 100 ms later while bob's add is held for the settle period.
    const writesAt: number[] = [];
    s.azure.gate = () => {
      writesAt.push(s.clock.now().getTime());
      return undefined;
    };
    const bobAt = s.clock.now().getTime();
    s.create("AccessRequest", sshRequest("bob", "203.0.113.9/32"));
    await s.run(100, 10);
    aliceFinalizer.release();
    await s.run(1500, 10);
    expect(s.phase("bob")).toBe("Active");
    // Written when the 200 ms after bob's arrival are over, not 200 ms after alice's finalizer.
    expect(writesAt.length).toBeGreaterThan(0);
    expect((writesAt[0] ?? 0) - bobAt).toBeLessThan(260);
    expect((writesAt[0] ?? 0) - bobAt).toBeGreaterThanOrEqual(190);
  });
});
