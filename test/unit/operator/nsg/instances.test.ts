// Two operator instances on one NSG, through the NSG reconciler, the apply step and the resync, over
// an in-memory ARM that behaves as ARM does for what they use (rule names compare case-insensitively,
// a PUT onto a rule keeps its spelling, etags change with every write).
import { describe, expect, it } from "@jest/globals";
import type { JitPolicy } from "../../../../src/api/types.ts";
import { AzureError } from "../../../../src/azure/port.ts";
import type { AzurePort, ResolvedVm } from "../../../../src/azure/port.ts";
import { denyRuleName, planNsg } from "../../../../src/core/index.ts";
import type { ObservedNsg, SecurityRule } from "../../../../src/core/index.ts";
import { BindingIndex } from "../../../../src/operator/state/bindings.ts";
import { GrantIndex } from "../../../../src/operator/state/grant-index.ts";
import { nsgKey } from "../../../../src/operator/state/keys.ts";
import { Ledger } from "../../../../src/operator/state/ledger.ts";
import { ForeignWriteError, applyPlan, checkOwnWrites } from "../../../../src/operator/nsg/apply.ts";
import type { WriteMode } from "../../../../src/runtime/config.ts";
import { NsgReconciler } from "../../../../src/operator/nsg/reconciler.ts";
import { Prefetch } from "../../../../src/operator/nsg/prefetch.ts";
import { resyncOnce } from "../../../../src/operator/nsg/resync.ts";
import { FakeClock } from "../../../../src/runtime/clock.ts";
import { createLogger } from "../../../../src/runtime/logger.ts";
import { JUMP_NSG, SUB, foreignRule as rule, policy } from "../fixtures.ts";

const OTHER_SUB = "00000000-0000-0000-0000-000000000002";
const ORPHAN_NSG = `/subscriptions/${OTHER_SUB}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/orphan-nsg`;

/** ARM as the reconcilers see it, in memory. */
class MemoryArm implements AzurePort {
  readonly nsgs = new Map<string, ObservedNsg>();
  readonly writes: string[] = [];
  #etag = 0;

  add(id: string, rules: SecurityRule[]): void {
    this.nsgs.set(id.toLowerCase(), { id, etag: this.#nextEtag(), securityRules: rules });
  }

  rules(id: string): SecurityRule[] {
    return this.#nsg(id).securityRules;
  }

  resolveVirtualMachine(vmId: string): Promise<ResolvedVm> {
    return Promise.reject(new AzureError("NotFound", `no VM ${vmId}`));
  }

  getNsg(nsgId: string): Promise<ObservedNsg> {
    return Promise.resolve(structuredClone(this.#nsg(nsgId)));
  }

  listNsgs(subscriptionId: string): Promise<ObservedNsg[]> {
    const prefix = `/subscriptions/${subscriptionId.toLowerCase()}/`;
    return Promise.resolve(
      [...this.nsgs.entries()].filter(([k]) => k.startsWith(prefix)).map(([, n]) => structuredClone(n)),
    );
  }

  putRule(nsgId: string, r: SecurityRule): Promise<void> {
    const nsg = this.#nsg(nsgId);
    this.writes.push(`PUT ${r.name}`);
    const i = nsg.securityRules.findIndex((x) => x.name.toLowerCase() === r.name.toLowerCase());
    if (i < 0) nsg.securityRules.push(structuredClone(r));
    else nsg.securityRules[i] = { ...structuredClone(r), name: nsg.securityRules[i]?.name ?? r.name };
    nsg.etag = this.#nextEtag();
    return Promise.resolve();
  }

  deleteRule(nsgId: string, name: string): Promise<void> {
    const nsg = this.#nsg(nsgId);
    this.writes.push(`DELETE ${name}`);
    nsg.securityRules = nsg.securityRules.filter((x) => x.name.toLowerCase() !== name.toLowerCase());
    nsg.etag = this.#nextEtag();
    return Promise.resolve();
  }

  replaceRules(observed: ObservedNsg, securityRules: SecurityRule[]): Promise<ObservedNsg> {
    const nsg = this.#nsg(observed.id);
    if (observed.etag !== nsg.etag) return Promise.reject(new AzureError("PreconditionFailed", "etag"));
    this.writes.push(`PUT NSG ${securityRules.map((r) => r.name).join(",")}`);
    nsg.securityRules = structuredClone(securityRules);
    nsg.etag = this.#nextEtag();
    return Promise.resolve(structuredClone(nsg));
  }

  #nsg(id: string): ObservedNsg {
    const nsg = this.nsgs.get(id.toLowerCase());
    if (nsg === undefined) throw new AzureError("NotFound", `no NSG ${id}`);
    return nsg;
  }

  #nextEtag(): string {
    return `W/"${String(++this.#etag)}"`;
  }
}

/** One operator instance: its bindings (from `policies`) and its NSG reconciler. */
class Instance {
  readonly bindings = new BindingIndex(() => true);
  readonly prefetch: Prefetch;
  readonly reconciler: NsgReconciler;
  readonly woken: string[] = [];
  readonly arm: MemoryArm;
  readonly id: string;
  readonly clock = new FakeClock();

  constructor(arm: MemoryArm, id: string, policies: JitPolicy[], writeMode: WriteMode = "rule") {
    this.arm = arm;
    this.id = id;
    const clock = this.clock;
    for (const p of policies) this.bindings.upsert(p, true);
    this.prefetch = new Prefetch(clock);
    this.reconciler = new NsgReconciler({
      azure: arm,
      bindings: this.bindings,
      grants: new GrantIndex({
        policy: () => undefined,
        request: () => undefined,
        requestsOf: () => [],
        isAuthentic: () => true,
      }),
      ledger: new Ledger(),
      prefetch: this.prefetch,
      clock,
      log: createLogger("silent"),
      metrics: undefined,
      writeMode,
      instanceId: id,
      getRequest: () => undefined,
      undecided: () => 0,
      settleLeft: () => 0,
      maxHoldMs: 0,
      wakeRequest: () => undefined,
      wakePolicy: () => undefined,
    });
  }

  async reconcile(nsgId: string): Promise<void> {
    await this.reconciler.reconcile(nsgKey(nsgId));
  }

  async resync(subscriptions: string[] = []): Promise<Awaited<ReturnType<typeof resyncOnce>>> {
    return resyncOnce({
      azure: this.arm,
      bindings: this.bindings,
      prefetch: this.prefetch,
      clock: this.clock,
      log: createLogger("silent"),
      metrics: undefined,
      intervalMs: 60_000,
      instanceId: this.id,
      subscriptions: () => subscriptions,
      wakeNsg: (k) => {
        this.woken.push(k);
      },
      wakeAllPolicies: () => undefined,
    });
  }
}

/** The example policy on the jump NSG only, in `namespace`, with its band. */
function jumpPolicy(namespace: string, from: number, to: number): JitPolicy {
  const p = policy({
    targets: [{ networkSecurityGroupId: JUMP_NSG, destinationAddressPrefixes: ["10.0.2.4/32"] }],
    priorityRange: { from, to },
  });
  p.metadata.namespace = namespace;
  return p;
}

const FOREIGN = rule("allow-https", 1000);

function byPrefix(rules: SecurityRule[], prefix: string): SecurityRule[] {
  return rules.filter((r) => r.name.toLowerCase().startsWith(prefix));
}

describe.each(["rule", "nsg"] as const)("two instances on one NSG (%s write mode)", (mode) => {
  it("each writes and removes only its own rules; the foreign rule and the other's rules stay identical", async () => {
    const arm = new MemoryArm();
    arm.add(JUMP_NSG, [structuredClone(FOREIGN)]);
    const a = new Instance(arm, "", [jumpPolicy("team-a", 100, 199)], mode);
    const b = new Instance(arm, "b", [jumpPolicy("team-b", 300, 399)], mode);
    await a.reconcile(JUMP_NSG);
    const aRules = byPrefix(arm.rules(JUMP_NSG), "drawbridge-");
    expect(aRules.map((r) => r.name)).toEqual([denyRuleName("team-a/web-admin", JUMP_NSG, "TCP")]);
    await b.reconcile(JUMP_NSG);
    const bRules = byPrefix(arm.rules(JUMP_NSG), "drawbridge.b-");
    expect(bRules.map((r) => [r.name, r.priority, r.description])).toEqual([
      [
        denyRuleName("team-b/web-admin", JUMP_NSG, "TCP", "b"),
        399,
        "drawbridge instance b JIT baseline deny TCP, policy team-b/web-admin, target jump-nsg",
      ],
    ]);
    expect(bRules[0]?.name.startsWith("drawbridge.b-team-b-web-admin-")).toBe(true);
    expect(byPrefix(arm.rules(JUMP_NSG), "drawbridge-")).toEqual(aRules);
    expect(arm.rules(JUMP_NSG).filter((r) => r.name === FOREIGN.name)).toEqual([FOREIGN]);
    // Each converged: planned again, neither writes.
    const before = arm.writes.length;
    await a.reconcile(JUMP_NSG);
    await b.reconcile(JUMP_NSG);
    expect(arm.writes.length).toBe(before);
    // Instance "" loses its policy: it removes its rule, and only its rule.
    a.bindings.remove("team-a/web-admin");
    await a.reconcile(JUMP_NSG);
    expect(byPrefix(arm.rules(JUMP_NSG), "drawbridge-")).toEqual([]);
    expect(byPrefix(arm.rules(JUMP_NSG), "drawbridge.b-")).toEqual(bRules);
    expect(arm.rules(JUMP_NSG).filter((r) => r.name === FOREIGN.name)).toEqual([FOREIGN]);
    b.bindings.remove("team-b/web-admin");
    await b.reconcile(JUMP_NSG);
    expect(arm.rules(JUMP_NSG)).toEqual([FOREIGN]);
  });
});

describe("resync of NSGs no policy binds", () => {
  function orphanEstate(): MemoryArm {
    const arm = new MemoryArm();
    arm.add(JUMP_NSG, [structuredClone(FOREIGN)]);
    arm.add(ORPHAN_NSG, [
      structuredClone(FOREIGN),
      rule("drawbridge-gone-1234abcd-tcp-22", 120),
      rule("DRAWBRIDGE.B-gone-1234abcd-tcp-22", 121),
      rule("drawbridge.c-gone-1234abcd-tcp-22", 122),
    ]);
    return arm;
  }

  it("queues an unbound NSG that carries a rule of this instance, and the reconciler removes only that", async () => {
    const arm = orphanEstate();
    const b = new Instance(arm, "b", []);
    const stats = await b.resync([OTHER_SUB.toUpperCase()]);
    expect(stats).toMatchObject({ subscriptions: 1, listed: 1, orphans: 1, queued: 1 });
    expect(b.woken).toEqual([nsgKey(ORPHAN_NSG)]);
    await b.reconcile(ORPHAN_NSG);
    expect(arm.writes).toEqual(["DELETE DRAWBRIDGE.B-gone-1234abcd-tcp-22"]);
    expect(arm.rules(ORPHAN_NSG).map((r) => r.name)).toEqual([
      "allow-https",
      "drawbridge-gone-1234abcd-tcp-22",
      "drawbridge.c-gone-1234abcd-tcp-22",
    ]);
    // Nothing of b's is left there: the next resync does not queue it again.
    b.woken.length = 0;
    expect((await b.resync([OTHER_SUB])).orphans).toBe(0);
    expect(b.woken).toEqual([]);
  });

  it("lists the subscriptions of bound NSGs as well, and never queues an NSG without rules of its own", async () => {
    const arm = orphanEstate();
    const a = new Instance(arm, "", [jumpPolicy("team-a", 100, 199)]);
    const d = new Instance(arm, "d", []);
    expect(await d.resync()).toMatchObject({ subscriptions: 0, orphans: 0, queued: 0 });
    expect(await d.resync([OTHER_SUB])).toMatchObject({ subscriptions: 1, orphans: 0, queued: 0 });
    const stats = await a.resync([SUB, OTHER_SUB]);
    expect(stats).toMatchObject({ subscriptions: 2, listed: 2, orphans: 1, queued: 2 });
    expect(a.woken.sort()).toEqual([nsgKey(JUMP_NSG), nsgKey(ORPHAN_NSG)].sort());
    await a.reconcile(ORPHAN_NSG);
    expect(arm.rules(ORPHAN_NSG).map((r) => r.name)).toEqual([
      "allow-https",
      "DRAWBRIDGE.B-gone-1234abcd-tcp-22",
      "drawbridge.c-gone-1234abcd-tcp-22",
    ]);
  });

  it("deletes at the listed id when the NSG is read afresh, and stops when the NSG is gone", async () => {
    const arm = orphanEstate();
    const b = new Instance(arm, "b", [], "nsg");
    await b.resync([OTHER_SUB]);
    await arm.putRule(ORPHAN_NSG, rule("late-foreign", 130));
    // The listed document is stale now: the If-Match PUT fails once, the reconciler re-reads by id.
    await b.reconcile(ORPHAN_NSG);
    expect(byPrefix(arm.rules(ORPHAN_NSG), "drawbridge.b-")).toEqual([]);
    expect(arm.rules(ORPHAN_NSG).map((r) => r.name)).toContain("late-foreign");
    arm.nsgs.delete(ORPHAN_NSG.toLowerCase());
    expect(await b.reconciler.reconcile(nsgKey(ORPHAN_NSG))).toEqual({});
  });
});

describe("checkOwnWrites", () => {
  const observed: ObservedNsg = {
    id: JUMP_NSG,
    etag: "1",
    securityRules: [
      FOREIGN,
      rule("drawbridge-x-1234abcd-tcp-22", 120),
      rule("drawbridge.b-y-0123456789abcdef-tcp-22", 121),
    ],
  };

  it("lets through a plan that touches only the instance's own rules", () => {
    const p = planNsg({ nsg: observed, bindings: [], grants: [], instance: "b" });
    expect(p.deletes).toEqual(["drawbridge.b-y-0123456789abcdef-tcp-22"]);
    expect(() => {
      checkOwnWrites("rule", observed, p, "b");
      checkOwnWrites("nsg", observed, p, "b");
    }).not.toThrow();
  });

  it("refuses, writing nothing, a plan that would put, delete, drop or change another's rule", async () => {
    const p = planNsg({ nsg: observed, bindings: [], grants: [], instance: "b" });
    const arm = new MemoryArm();
    arm.add(JUMP_NSG, structuredClone(observed.securityRules));
    const cases: [WriteMode, typeof p][] = [
      ["rule", { ...p, deletes: ["drawbridge-x-1234abcd-tcp-22"] }],
      ["rule", { ...p, puts: [rule("allow-https", 1000, { description: "changed" })] }],
      ["nsg", { ...p, nsgBody: p.nsgBody.filter((r) => r.name !== "drawbridge-x-1234abcd-tcp-22") }],
      [
        "nsg",
        { ...p, nsgBody: p.nsgBody.map((r) => (r.name === "allow-https" ? { ...r, priority: 999 } : r)) },
      ],
      ["nsg", { ...p, nsgBody: [...p.nsgBody, rule("new-foreign", 2000)] }],
    ];
    for (const [mode, bad] of cases) {
      await expect(applyPlan(mode, arm, observed, bad, () => bad, "b")).rejects.toThrow(ForeignWriteError);
    }
    expect(arm.writes).toEqual([]);
  });
});

describe("applyPlan in rule mode during the upgrade of rule names", () => {
  /** ARM that refuses every PUT of a deny as invalid. */
  class RefusingArm extends MemoryArm {
    override putRule(nsgId: string, r: SecurityRule): Promise<void> {
      if (r.access === "Deny") return Promise.reject(new AzureError("Invalid", `refused ${r.name}`));
      return super.putRule(nsgId, r);
    }
  }

  it("deletes no old deny when Azure refuses the new one: the port never stays without its deny", async () => {
    const legacyDeny = rule("drawbridge-team-a-web-admin-8a9e00bf-deny-tcp", 101, {
      access: "Deny",
      destinationPortRange: "22",
    });
    const legacyAllow = rule("drawbridge-team-a-web-admin-8a9e00bf-tcp-22", 100, {
      destinationPortRange: "22",
    });
    const observed: ObservedNsg = { id: JUMP_NSG, etag: "1", securityRules: [legacyAllow, legacyDeny] };
    const newDeny = rule("drawbridge-team-a-web-admin-0123456789abcdef-deny-tcp", 109, {
      access: "Deny",
      destinationPortRange: "22",
    });
    const p = planNsg({ nsg: observed, bindings: [], grants: [] });
    const plan = { ...p, puts: [newDeny], deletes: [legacyAllow.name, legacyDeny.name], unchanged: false };
    const arm = new RefusingArm();
    arm.add(JUMP_NSG, structuredClone(observed.securityRules));
    const result = await applyPlan("rule", arm, observed, plan, () => plan);
    expect([...result.refused.keys()]).toEqual([newDeny.name]);
    expect(arm.rules(JUMP_NSG).map((r) => r.name)).toEqual([legacyDeny.name]);
    expect(arm.writes).toEqual([`DELETE ${legacyAllow.name}`]);
  });
});
