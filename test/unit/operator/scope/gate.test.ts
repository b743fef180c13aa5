import { describe, expect, it } from "@jest/globals";
import type { JitScope } from "../../../../src/api/types.ts";
import { scopeSubscriptions } from "../../../../src/operator/controller.ts";
import { ScopeGate } from "../../../../src/operator/scope/gate.ts";
import { changedScopeStatuses, scopeStatus } from "../../../../src/operator/scope/status.ts";
import type { NamespaceInfo } from "../../../../src/operator/scope/gate.ts";
import { ALLOW_UNSCOPED_KEY, scopeIndexData } from "../../../../src/operator/scope/scope-index.ts";
import { JUMP_NSG, SUB, VM, policy, request } from "../fixtures.ts";

const RG = `/subscriptions/${SUB}/resourceGroups/demo-rg`;

function scope(name: string, namespaces: string[], azureScopes: string[]): JitScope {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitScope",
    metadata: { name },
    spec: { namespaces: { names: namespaces }, azureScopes },
  };
}

function gate(
  scopes: JitScope[],
  opts: { allowUnscoped?: boolean; namespaces?: string[] } = {},
): {
  gate: ScopeGate;
  scopes: JitScope[];
} {
  const known = new Set(opts.namespaces ?? ["team-a", "team-b"]);
  const list = [...scopes];
  const g = new ScopeGate(
    {
      scopes: () => list,
      namespace: (name): NamespaceInfo | undefined => (known.has(name) ? { name, labels: {} } : undefined),
    },
    { allowUnscoped: opts.allowUnscoped ?? false },
  );
  return { gate: g, scopes: list };
}

const targetIds = (p: ReturnType<typeof policy>): (string | undefined)[] =>
  p.spec.targets.map((t) => t.virtualMachineId ?? t.networkSecurityGroupId);

describe("ScopeGate", () => {
  it("leaves a fully covered policy as it is (same object)", () => {
    const { gate: g } = gate([scope("a", ["team-a"], [RG])]);
    const p = policy();
    expect(g.view(p)).toBe(p);
    expect(g.verdict(p).outOfScope).toEqual([]);
    expect(g.requestVerdict(request(), p)).toBeUndefined();
  });

  it("drops the targets no scope covers from the view, and denies a request naming one", () => {
    const { gate: g } = gate([scope("a", ["team-a"], [JUMP_NSG])]);
    const p = policy();
    expect(targetIds(g.view(p))).toEqual([JUMP_NSG]);
    const r = request();
    r.spec.targets = [JUMP_NSG, VM];
    const v = g.requestVerdict(r, p);
    expect(v).toMatchObject({ allowed: false, reason: "OutOfScope", field: "spec.targets[1]" });
    // A request without targets gets what is in scope.
    expect(g.requestVerdict(request(), p)).toBeUndefined();
  });

  it("opens nothing when no scope binds the namespace, and says why", () => {
    const { gate: g } = gate([scope("b", ["team-b"], [RG])]);
    const p = policy();
    expect(g.view(p).spec.targets).toEqual([]);
    const v = g.requestVerdict(request(), p);
    expect(v).toMatchObject({ allowed: false, reason: "OutOfScope", field: "spec.policyName" });
    expect(v?.allowed === false ? v.message : "").toContain("team-a");
  });

  it("opens nothing in a namespace it does not know", () => {
    const { gate: g } = gate([scope("a", ["team-a"], [RG])], { namespaces: [] });
    expect(g.view(policy()).spec.targets).toEqual([]);
    expect(g.verdict(policy()).outOfScope[0]?.message).toContain("not known");
  });

  it("sees a scope change only after invalidate, and then at once", () => {
    const { gate: g, scopes } = gate([scope("a", ["team-a"], [RG])]);
    const p = policy();
    const before = g.signature(p);
    scopes.splice(0, 1, scope("a", ["team-a"], [JUMP_NSG]));
    expect(g.signature(p)).toBe(before);
    g.invalidate();
    expect(g.signature(p)).not.toBe(before);
    expect(targetIds(g.view(p))).toEqual([JUMP_NSG]);
  });

  it("with the opt-out, leaves unscoped namespaces open but still binds scoped ones", () => {
    const { gate: g } = gate([scope("b", ["team-b"], [JUMP_NSG])], { allowUnscoped: true });
    const a = policy();
    expect(g.view(a)).toBe(a);
    const b = policy();
    b.metadata.namespace = "team-b";
    expect(targetIds(g.view(b))).toEqual([JUMP_NSG]);
  });
});

describe("scopeIndexData", () => {
  it("holds one key per bound namespace with its lower-cased prefixes, and the opt-out flag", () => {
    const data = scopeIndexData(
      [scope("a", ["team-a"], [RG.toUpperCase()]), scope("a2", ["team-a"], [JUMP_NSG])],
      [
        { name: "team-a", labels: {} },
        { name: "team-c", labels: {} },
      ],
      false,
    );
    expect(Object.keys(data).sort()).toEqual([ALLOW_UNSCOPED_KEY, "team-a"].sort());
    expect(data["team-a"]?.split(" ").sort()).toEqual([RG.toLowerCase(), JUMP_NSG.toLowerCase()].sort());
    expect(data[ALLOW_UNSCOPED_KEY]).toBe("false");
    expect(scopeIndexData([], [], true)).toEqual({ [ALLOW_UNSCOPED_KEY]: "true" });
  });
});

describe("scopeSubscriptions", () => {
  it("names each subscription a scope grants once, lower-cased, whatever the depth", () => {
    expect(
      scopeSubscriptions([
        scope("a", ["team-a"], [`/subscriptions/${SUB.toUpperCase()}`, RG]),
        scope("b", ["team-b"], ["/subscriptions/00000000-0000-0000-0000-0000000000B2/resourceGroups/x"]),
      ]).sort(),
    ).toEqual([SUB, "00000000-0000-0000-0000-0000000000b2"].sort());
  });
});

describe("scopeStatus", () => {
  it("lists the namespaces a scope binds, sorted, and is Ready only when it binds one", () => {
    const now = new Date("2026-12-01T00:00:00Z");
    const s = scope("a", ["team-b", "team-a", "gone"], [RG]);
    const ns = [
      { name: "team-a", labels: {} },
      { name: "team-b", labels: {} },
      { name: "team-c", labels: {} },
    ];
    const status = scopeStatus(s, ns, now);
    expect(status.namespaces).toEqual(["team-a", "team-b"]);
    expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "True", reason: "Bound" });
    expect(scopeStatus(scope("x", ["nowhere"], [RG]), ns, now).conditions?.[0]).toMatchObject({
      status: "False",
      reason: "NoNamespace",
    });
    // Unchanged status: nothing to write.
    expect(changedScopeStatuses([{ ...s, status }], ns, now)).toEqual([]);
    expect(changedScopeStatuses([s], ns, now)).toHaveLength(1);
  });
});
