// The NSG reconciler and the resync around a listed document: a document listed while a write of
// ours was in flight, or before one that failed halfway, is never planned from; one listed after
// the last write is used however long the queue takes to reach it.
import { describe, expect, it } from "@jest/globals";
import { AzureError } from "../../../../src/azure/port.ts";
import type { AzurePort, ResolvedVm } from "../../../../src/azure/port.ts";
import type { ObservedNsg, SecurityRule } from "../../../../src/core/index.ts";
import { BindingIndex } from "../../../../src/operator/state/bindings.ts";
import { GrantIndex } from "../../../../src/operator/state/grant-index.ts";
import { nsgKey } from "../../../../src/operator/state/keys.ts";
import { Ledger } from "../../../../src/operator/state/ledger.ts";
import { NsgReconciler } from "../../../../src/operator/nsg/reconciler.ts";
import { Prefetch } from "../../../../src/operator/nsg/prefetch.ts";
import { resyncOnce } from "../../../../src/operator/nsg/resync.ts";
import { FakeClock } from "../../../../src/runtime/clock.ts";
import { createLogger } from "../../../../src/runtime/logger.ts";
import { JUMP_NSG, SUB, policy } from "../fixtures.ts";

/** One NSG in memory; counts GETs; `duringPut` runs inside a rule PUT, which then fails if `failPut`. */
class Arm implements AzurePort {
  nsg: ObservedNsg = { id: JUMP_NSG, etag: 'W/"0"', securityRules: [] };
  gets = 0;
  #etag = 0;
  duringPut: (() => Promise<void>) | undefined;
  failPut = false;

  resolveVirtualMachine(vmId: string): Promise<ResolvedVm> {
    return Promise.reject(new AzureError("NotFound", `no VM ${vmId}`));
  }
  getNsg(): Promise<ObservedNsg> {
    this.gets++;
    return Promise.resolve(structuredClone(this.nsg));
  }
  listNsgs(sub: string): Promise<ObservedNsg[]> {
    return Promise.resolve(sub.toLowerCase() === SUB ? [structuredClone(this.nsg)] : []);
  }
  async putRule(_id: string, r: SecurityRule): Promise<void> {
    const hook = this.duringPut;
    this.duringPut = undefined;
    if (hook !== undefined) await hook();
    if (this.failPut) throw new AzureError("Throttled", "429", { retryAfterMs: 1000 });
    this.nsg.securityRules = [...this.nsg.securityRules.filter((x) => x.name !== r.name), r];
    this.nsg.etag = `W/"${String(++this.#etag)}"`;
  }
  deleteRule(): Promise<void> {
    return Promise.reject(new Error("unexpected DELETE"));
  }
  replaceRules(): Promise<ObservedNsg> {
    return Promise.reject(new Error("unexpected NSG PUT"));
  }
}

function setup(): {
  arm: Arm;
  clock: FakeClock;
  reconcile: () => Promise<unknown>;
  resync: () => Promise<unknown>;
} {
  const arm = new Arm();
  const clock = new FakeClock();
  const bindings = new BindingIndex(() => true);
  bindings.upsert(
    policy({ targets: [{ networkSecurityGroupId: JUMP_NSG, destinationAddressPrefixes: ["10.0.2.4/32"] }] }),
    true,
  );
  const prefetch = new Prefetch(clock);
  const log = createLogger("silent");
  const reconciler = new NsgReconciler({
    azure: arm,
    bindings,
    grants: new GrantIndex({
      policy: () => undefined,
      request: () => undefined,
      requestsOf: () => [],
      isAuthentic: () => true,
    }),
    ledger: new Ledger(),
    prefetch,
    clock,
    log,
    metrics: undefined,
    writeMode: "rule",
    instanceId: "",
    getRequest: () => undefined,
    undecided: () => 0,
    settleLeft: () => 0,
    maxHoldMs: 0,
    wakeRequest: () => undefined,
    wakePolicy: () => undefined,
  });
  const resync = (): Promise<unknown> =>
    resyncOnce({
      azure: arm,
      bindings,
      prefetch,
      clock,
      log,
      metrics: undefined,
      intervalMs: 60_000,
      instanceId: "",
      wakeNsg: () => undefined,
      wakeAllPolicies: () => undefined,
    });
  return { arm, clock, reconcile: () => reconciler.reconcile(nsgKey(JUMP_NSG)), resync };
}

describe("listed NSG documents and our writes", () => {
  it("a document listed after our last write is used with no age limit", async () => {
    const { arm, clock, reconcile, resync } = setup();
    await reconcile(); // reads, writes the baseline deny
    expect(arm.gets).toBe(1);
    expect(arm.nsg.securityRules).toHaveLength(1);
    clock.advance(1000);
    await resync();
    clock.advance(30 * 60_000);
    await reconcile();
    expect(arm.gets).toBe(1);
  });

  it("a document listed while a write was in flight, and the write failed halfway, is not used", async () => {
    const { arm, clock, reconcile, resync } = setup();
    arm.failPut = true;
    arm.duringPut = async (): Promise<void> => {
      clock.advance(10);
      await resync();
      clock.advance(10);
    };
    await expect(reconcile()).rejects.toThrow("429");
    expect(arm.gets).toBe(1);
    arm.failPut = false;
    await reconcile();
    expect(arm.gets).toBe(2);
  });

  it("a document listed before a write that failed is not used", async () => {
    const { arm, clock, reconcile, resync } = setup();
    // The list begins (its clock read) before the PUT starts, and lands after the PUT failed.
    arm.listNsgs = (sub: string): Promise<ObservedNsg[]> =>
      new Promise((resolve) => {
        arm.duringPut = (): Promise<void> => {
          clock.advance(10);
          return Promise.resolve();
        };
        void reconcile()
          .catch(() => undefined)
          .finally(() => {
            clock.advance(10);
            resolve(sub.toLowerCase() === SUB ? [structuredClone(arm.nsg)] : []);
          });
      });
    arm.failPut = true;
    await resync();
    expect(arm.gets).toBe(1);
    arm.failPut = false;
    await reconcile();
    expect(arm.gets).toBe(2);
  });
});
