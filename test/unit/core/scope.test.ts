// Table-driven tests of JitScope evaluation: ARM id containment, namespace binding (names and label
// selectors), a policy's targets against the bound scopes and their ceilings, and the scope index.
import { describe, expect, it } from "@jest/globals";
import type {
  JitPolicy,
  JitPolicySpec,
  JitScope,
  JitScopeSpec,
  LabelSelector,
  PolicyPort,
} from "../../../src/api/types.ts";
import {
  armIdWithin,
  azureScopeIssue,
  checkPolicyScope,
  labelSelectorMatches,
  scopeBindsNamespace,
  scopeIndex,
} from "../../../src/core/scope.ts";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001";
const RG = `${SUB}/resourceGroups/demo-rg`;
const VM = `${RG}/providers/Microsoft.Compute/virtualMachines/web-1`;
const NSG = `${RG}/providers/Microsoft.Network/networkSecurityGroups/jump-nsg`;
const OTHER_VM = `${SUB}/resourceGroups/demo-rg2/providers/Microsoft.Compute/virtualMachines/web-2`;

function scope(name: string, spec: Partial<JitScopeSpec>): JitScope {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitScope",
    metadata: { name },
    spec: { namespaces: { names: ["team-a"] }, azureScopes: [RG], ...spec },
  };
}

function policy(spec: Partial<JitPolicySpec>, namespace = "team-a"): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { name: "web-admin", namespace },
    // Built like an object the CRD defaults were not applied to: effectivePolicySpec fills them in.
    spec: { targets: [{ virtualMachineId: VM }], ...spec } as JitPolicySpec,
  };
}

const teamA = { name: "team-a", labels: { "drawbridge.dev/team": "a" } };
const teamB = { name: "team-b", labels: { "drawbridge.dev/team": "b", tier: "prod" } };

describe("armIdWithin", () => {
  it.each([
    [VM, RG, true],
    [VM, SUB, true],
    [VM, VM, true],
    [RG, RG, true],
    [VM.toUpperCase(), RG.toLowerCase(), true],
    [`${SUB}/resourcegroups/DEMO-RG/providers/x`, RG, true],
    [VM, `${RG}/`, true],
    [`${RG}/`, RG, true],
    [OTHER_VM, RG, false],
    [`${SUB}/resourceGroups/demo-rg2`, RG, false],
    [`${SUB}/resourceGroups/demo`, RG, false],
    [RG, VM, false],
    [SUB, RG, false],
    ["/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/demo-rg", RG, false],
    [VM, "", false],
    [VM, "/", false],
    ["", RG, false],
    // ASCII case only: the Kelvin sign lower-cases to "k" in Unicode, but ARM does not equate them.
    [`${SUB}/resourceGroups/\u212Aube`, `${SUB}/resourceGroups/kube`, false],
  ])("%s within %s: %s", (id, prefix, expected) => {
    expect(armIdWithin(id, prefix)).toBe(expected);
  });
});

describe("azureScopeIssue", () => {
  it.each([SUB, RG, VM, `${SUB.toUpperCase()}/RESOURCEGROUPS/RG`, `${SUB}/resourceGroups`])(
    "accepts %s",
    (p) => {
      expect(azureScopeIssue(p)).toBeUndefined();
    },
  );

  it.each([
    ["", "1 to 512"],
    ["/", "must start with /subscriptions/"],
    ["/subscriptions", "must start with /subscriptions/"],
    ["/subscriptions/not-a-guid/resourceGroups/rg", "must start with /subscriptions/"],
    [`${SUB}x`, "must start with /subscriptions/"],
    ["subscriptions/00000000-0000-0000-0000-000000000001", "must start with /subscriptions/"],
    [`${RG}/`, "must not end with '/'"],
    [`${SUB}//resourceGroups/rg`, "empty path segment"],
    [`${SUB}/resourceGroups/my rg`, "whitespace"],
    [`${SUB}/resourceGroups/rg?api-version=1`, "'?'"],
    [`${SUB}/${"x".repeat(512)}`, "1 to 512"],
  ])("refuses %s naming the rule (%s)", (p, why) => {
    expect(azureScopeIssue(p)).toContain(why);
  });
});

describe("labelSelectorMatches", () => {
  const labels = { "drawbridge.dev/team": "a", tier: "prod", empty: "" };
  it.each<[string, LabelSelector, boolean]>([
    ["empty selector", {}, true],
    ["empty matchLabels", { matchLabels: {} }, true],
    ["matching label", { matchLabels: { "drawbridge.dev/team": "a" } }, true],
    ["every label must match", { matchLabels: { "drawbridge.dev/team": "a", tier: "dev" } }, false],
    ["other value", { matchLabels: { "drawbridge.dev/team": "b" } }, false],
    ["missing label", { matchLabels: { owner: "x" } }, false],
    ["empty value matches an empty label", { matchLabels: { empty: "" } }, true],
    ["In", { matchExpressions: [{ key: "tier", operator: "In", values: ["dev", "prod"] }] }, true],
    ["In, other value", { matchExpressions: [{ key: "tier", operator: "In", values: ["dev"] }] }, false],
    ["In, missing label", { matchExpressions: [{ key: "zone", operator: "In", values: ["x"] }] }, false],
    ["NotIn", { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["dev"] }] }, true],
    ["NotIn, listed", { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["prod"] }] }, false],
    ["NotIn, missing label", { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["x"] }] }, true],
    ["Exists", { matchExpressions: [{ key: "tier", operator: "Exists" }] }, true],
    ["Exists, missing", { matchExpressions: [{ key: "zone", operator: "Exists" }] }, false],
    ["DoesNotExist", { matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, true],
    ["DoesNotExist, present", { matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, false],
    [
      "labels and expressions together",
      {
        matchLabels: { "drawbridge.dev/team": "a" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["prod"] }],
      },
      true,
    ],
    // Malformed selectors match nothing, even when the labels would otherwise fit.
    ["In without values", { matchExpressions: [{ key: "tier", operator: "In", values: [] }] }, false],
    ["In with values absent", { matchExpressions: [{ key: "tier", operator: "In" }] }, false],
    ["NotIn without values", { matchExpressions: [{ key: "zone", operator: "NotIn" }] }, false],
    [
      "Exists with values",
      { matchExpressions: [{ key: "tier", operator: "Exists", values: ["prod"] }] },
      false,
    ],
    [
      "unknown operator",
      { matchExpressions: [{ key: "tier", operator: "Gt" as "In", values: ["1"] }] },
      false,
    ],
    ["bad key", { matchExpressions: [{ key: "-tier", operator: "Exists" }] }, false],
    ["bad matchLabels key", { matchLabels: { "a/b/c": "x" } }, false],
    ["bad matchLabels value", { matchLabels: { tier: "pr od" } }, false],
    [
      "bad value in In",
      { matchExpressions: [{ key: "tier", operator: "In", values: ["prod", "-x"] }] },
      false,
    ],
    ["not an object", [] as unknown as LabelSelector, false],
    ["prototype key", { matchExpressions: [{ key: "constructor", operator: "Exists" }] }, false],
  ])("%s", (_name, selector, expected) => {
    expect(labelSelectorMatches(selector, labels)).toBe(expected);
  });
});

describe("scopeBindsNamespace", () => {
  it.each<[string, JitScopeSpec["namespaces"], typeof teamA, boolean]>([
    ["listed by name", { names: ["team-a", "team-c"] }, teamA, true],
    ["not listed", { names: ["team-a"] }, teamB, false],
    ["selected by label", { selector: { matchLabels: { "drawbridge.dev/team": "b" } } }, teamB, true],
    ["not selected", { selector: { matchLabels: { "drawbridge.dev/team": "b" } } }, teamA, false],
    ["name OR selector", { names: ["team-a"], selector: { matchLabels: { tier: "prod" } } }, teamB, true],
    ["empty selector binds all", { selector: {} }, teamA, true],
    ["neither set binds none", {}, teamA, false],
    [
      "a malformed selector binds nothing, names still bind",
      { names: ["team-a"], selector: { matchExpressions: [{ key: "x", operator: "In" }] } },
      teamA,
      true,
    ],
    [
      "a malformed selector alone binds nothing",
      { selector: { matchExpressions: [{ key: "x", operator: "In" }] } },
      teamB,
      false,
    ],
  ])("%s", (_name, namespaces, ns, expected) => {
    expect(scopeBindsNamespace(scope("s", { namespaces }), ns)).toBe(expected);
  });

  it("treats a namespace without labels as having none", () => {
    const s = scope("s", {
      namespaces: { selector: { matchExpressions: [{ key: "x", operator: "DoesNotExist" }] } },
    });
    expect(scopeBindsNamespace(s, { name: "plain" })).toBe(true);
  });
});

describe("checkPolicyScope", () => {
  it("covers a target inside a bound scope, naming the scope", () => {
    const v = checkPolicyScope(policy({}), teamA, [scope("team-a", {})]);
    expect(v.outOfScope).toEqual([]);
    expect(v.targets).toEqual([
      {
        targetId: VM,
        covered: true,
        scope: "team-a",
        message: `target ${VM} is inside JitScope team-a (${RG}), which binds namespace team-a`,
      },
    ]);
  });

  it("says that nothing opens while no scope binds the namespace", () => {
    const v = checkPolicyScope(policy({}, "team-b"), teamB, [scope("team-a", {})]);
    expect(v.outOfScope).toHaveLength(1);
    expect(v.outOfScope[0]?.message).toBe(
      `no JitScope binds namespace team-b: nothing is opened until a cluster admin applies one (target ${VM})`,
    );
    expect(checkPolicyScope(policy({}), teamA, []).outOfScope[0]?.message).toContain(
      "no JitScope binds namespace team-a",
    );
  });

  it("names the target and the namespace for a target outside every bound scope", () => {
    const p = policy({ targets: [{ virtualMachineId: VM }, { virtualMachineId: OTHER_VM }] });
    const v = checkPolicyScope(p, teamA, [scope("team-a", {}), scope("b-too", { azureScopes: [NSG] })]);
    expect(v.targets.map((t) => t.covered)).toEqual([true, false]);
    expect(v.outOfScope).toEqual([
      {
        targetId: OTHER_VM,
        covered: false,
        message: `target ${OTHER_VM} is outside every JitScope bound to namespace team-a (b-too, team-a)`,
      },
    ]);
  });

  it("does not let a scope bound to another namespace cover the target", () => {
    const v = checkPolicyScope(policy({}, "team-b"), teamB, [
      scope("team-a", {}),
      scope("team-b", { namespaces: { names: ["team-b"] }, azureScopes: [`${SUB}/resourceGroups/other`] }),
    ]);
    expect(v.outOfScope[0]?.message).toBe(
      `target ${VM} is outside every JitScope bound to namespace team-b (team-b)`,
    );
  });

  it("covers an NSG target and compares ARM ids case-insensitively", () => {
    const p = policy({
      targets: [{ networkSecurityGroupId: NSG.toUpperCase(), destinationAddressPrefixes: ["10.0.2.4/32"] }],
    });
    const v = checkPolicyScope(p, teamA, [scope("team-a", { azureScopes: [RG.toLowerCase()] })]);
    expect(v.targets[0]).toMatchObject({ targetId: NSG.toUpperCase(), covered: true, scope: "team-a" });
  });

  it("ignores a malformed azureScope (it covers nothing)", () => {
    const v = checkPolicyScope(policy({}), teamA, [
      scope("bad", { azureScopes: ["/subscriptions", `${RG}/`] }),
    ]);
    expect(v.outOfScope[0]?.message).toContain("is outside every JitScope bound to namespace team-a (bad)");
  });

  it("reports a policy target naming no id", () => {
    const p = policy({ targets: [{}] });
    const v = checkPolicyScope(p, teamA, [scope("team-a", {})]);
    expect(v.outOfScope).toEqual([
      {
        targetId: "",
        covered: false,
        message:
          "spec.targets[0] names neither a virtualMachineId nor a networkSecurityGroupId, so no JitScope bound to namespace team-a can cover it",
      },
    ]);
  });

  describe("ceilings", () => {
    const sources = ["203.0.113.0/24", "2001:db8::/32"];
    const port = (over: Partial<Record<keyof PolicyPort, unknown>> = {}): PolicyPort => {
      const merged: Record<string, unknown> = {
        number: 22,
        protocol: "TCP",
        maxDuration: "PT1H",
        allowedSourceAddressPrefixes: ["203.0.113.0/25"],
        ...over,
      };
      // Fields set to undefined are dropped, as if the manifest had left them out.
      const kept = Object.entries(merged).filter(([, v]) => v !== undefined);
      return Object.fromEntries(kept) as unknown as PolicyPort;
    };

    it.each<[string, Partial<JitPolicySpec>, JitScopeSpec["ceilings"], string | undefined]>([
      [
        "band inside",
        { priorityRange: { from: 100, to: 199 } },
        { priorityRange: { from: 100, to: 1999 } },
        undefined,
      ],
      [
        "band on the edges",
        { priorityRange: { from: 100, to: 1999 } },
        { priorityRange: { from: 100, to: 1999 } },
        undefined,
      ],
      [
        "band below",
        { priorityRange: { from: 50, to: 199 } },
        { priorityRange: { from: 100, to: 1999 } },
        "spec.priorityRange 50..199 lies outside its ceiling 100..1999",
      ],
      [
        "band above",
        { priorityRange: { from: 1900, to: 2000 } },
        { priorityRange: { from: 100, to: 1999 } },
        "spec.priorityRange 1900..2000 lies outside its ceiling 100..1999",
      ],
      [
        "defaulted band 100..199 outside",
        {},
        { priorityRange: { from: 200, to: 299 } },
        "spec.priorityRange 100..199 lies outside its ceiling 200..299",
      ],
      ["duration under", { ports: [port()] }, { maxDuration: "PT4H" }, undefined],
      [
        "duration equal in other words",
        { ports: [port({ maxDuration: "PT240M" })] },
        { maxDuration: "PT4H" },
        undefined,
      ],
      [
        "duration over",
        { ports: [port(), port({ number: 3389, maxDuration: "PT5H" })] },
        { maxDuration: "PT4H" },
        "spec.ports[1] (3389/TCP) has maxDuration PT5H, above its ceiling maxDuration PT4H",
      ],
      [
        "defaulted ports (PT3H) over",
        {},
        { maxDuration: "PT2H" },
        "default port 0 of an omitted spec.ports (22/Any) has maxDuration PT3H, above its ceiling maxDuration PT2H",
      ],
      [
        "defaulted maxDuration (PT3H) over",
        { ports: [port({ maxDuration: undefined })] },
        { maxDuration: "PT1H" },
        "spec.ports[0] (22/TCP) has maxDuration PT3H, above its ceiling maxDuration PT1H",
      ],
      [
        "malformed ceiling duration admits nothing",
        { ports: [port()] },
        { maxDuration: "PT4Q" },
        'its ceiling maxDuration "PT4Q" is not a valid duration',
      ],
      [
        "sources inside",
        { ports: [port({ allowedSourceAddressPrefixes: ["203.0.113.7", "2001:db8:1::/48"] })] },
        { allowedSourceAddressPrefixes: sources },
        undefined,
      ],
      [
        "source outside",
        { ports: [port({ allowedSourceAddressPrefixes: ["203.0.113.0/25", "198.51.100.0/24"] })] },
        { allowedSourceAddressPrefixes: sources },
        "spec.ports[0] (22/TCP) allows source 198.51.100.0/24, which lies outside its ceiling allowedSourceAddressPrefixes (203.0.113.0/24, 2001:db8::/32)",
      ],
      [
        "source broader than the ceiling",
        { ports: [port({ allowedSourceAddressPrefixes: ["203.0.112.0/23"] })] },
        { allowedSourceAddressPrefixes: sources },
        "allows source 203.0.112.0/23, which lies outside",
      ],
      [
        "omitted sources under a source ceiling",
        { ports: [port({ allowedSourceAddressPrefixes: undefined })] },
        { allowedSourceAddressPrefixes: sources },
        "spec.ports[0] (22/TCP) lists no allowedSourceAddressPrefixes, so it would admit any source; list sources inside its ceiling allowedSourceAddressPrefixes (203.0.113.0/24, 2001:db8::/32)",
      ],
      [
        "defaulted ports under a source ceiling",
        {},
        { allowedSourceAddressPrefixes: sources },
        "default port 0 of an omitted spec.ports (22/Any) lists no allowedSourceAddressPrefixes",
      ],
      [
        "wildcard not listed",
        { ports: [port({ allowedSourceAddressPrefixes: ["*"] })] },
        { allowedSourceAddressPrefixes: ["0.0.0.0/0"] },
        "allows source *, a wildcard its ceiling allowedSourceAddressPrefixes (0.0.0.0/0) does not list exactly",
      ],
      [
        "0.0.0.0/0 is not Internet",
        { ports: [port({ allowedSourceAddressPrefixes: ["0.0.0.0/0"] })] },
        { allowedSourceAddressPrefixes: ["Internet"] },
        "allows source 0.0.0.0/0, a wildcard its ceiling allowedSourceAddressPrefixes (Internet) does not list exactly",
      ],
      [
        "wildcard listed exactly",
        { ports: [port({ allowedSourceAddressPrefixes: ["Internet"] })] },
        { allowedSourceAddressPrefixes: ["Internet"] },
        undefined,
      ],
      [
        "* ceiling admits specific sources",
        { ports: [port()] },
        { allowedSourceAddressPrefixes: ["*"] },
        undefined,
      ],
      [
        "0.0.0.0/0 ceiling admits IPv4 sources",
        { ports: [port()] },
        { allowedSourceAddressPrefixes: ["0.0.0.0/0"] },
        undefined,
      ],
      [
        "0.0.0.0/0 ceiling does not admit IPv6",
        { ports: [port({ allowedSourceAddressPrefixes: ["2001:db8::1"] })] },
        { allowedSourceAddressPrefixes: ["0.0.0.0/0"] },
        "allows source 2001:db8::1, which lies outside",
      ],
      [
        "Internet ceiling does not admit a specific source",
        { ports: [port()] },
        { allowedSourceAddressPrefixes: ["Internet"] },
        "allows source 203.0.113.0/25, which lies outside",
      ],
      [
        "the band is checked first",
        { priorityRange: { from: 50, to: 60 }, ports: [port({ maxDuration: "P1D" })] },
        { priorityRange: { from: 100, to: 199 }, maxDuration: "PT1H" },
        "spec.priorityRange 50..60",
      ],
      ["empty ceilings bind nothing extra", {}, {}, undefined],
    ])("%s", (_name, spec, ceilings, failure) => {
      const v = checkPolicyScope(policy(spec), teamA, [
        scope("team-a", ceilings === undefined ? {} : { ceilings }),
      ]);
      const [t] = v.targets;
      if (failure === undefined) {
        expect(t).toMatchObject({ covered: true, scope: "team-a" });
      } else {
        expect(t?.covered).toBe(false);
        expect(t?.scope).toBeUndefined();
        expect(t?.message).toContain(`target ${VM} is inside JitScope team-a, but `);
        expect(t?.message).toContain(failure);
        expect(t?.message).toContain("(namespace team-a)");
      }
    });

    it("is covered by a later scope when an earlier one's ceiling fails", () => {
      const strict = scope("a-strict", { ceilings: { maxDuration: "PT30M" } });
      const loose = scope("b-loose", { ceilings: { maxDuration: "PT4H" } });
      const v = checkPolicyScope(policy({ ports: [port()] }), teamA, [loose, strict]);
      expect(v.targets[0]).toMatchObject({ covered: true, scope: "b-loose" });
    });

    it("reports the first failure in scope-name order, whatever the input order", () => {
      const a = scope("a", { ceilings: { priorityRange: { from: 200, to: 299 } } });
      const b = scope("b", { ceilings: { maxDuration: "PT30M" } });
      const c = scope("c", { azureScopes: [`${SUB}/resourceGroups/other`] });
      for (const order of [
        [a, b, c],
        [c, b, a],
        [b, c, a],
      ]) {
        const v = checkPolicyScope(policy({ ports: [port()] }), teamA, order);
        expect(v.outOfScope[0]?.message).toBe(
          `target ${VM} is inside JitScope a, but spec.priorityRange 100..199 lies outside its ceiling 200..299 (namespace team-a)`,
        );
      }
    });

    it("fails closed on malformed ceilings", () => {
      const broken = [
        { priorityRange: { from: "100", to: 199 } },
        { maxDuration: 3 },
        { allowedSourceAddressPrefixes: "203.0.113.0/24" },
        { allowedSourceAddressPrefixes: [42] },
      ] as unknown as NonNullable<JitScopeSpec["ceilings"]>[];
      for (const ceilings of broken) {
        const v = checkPolicyScope(policy({ ports: [port()] }), teamA, [scope("team-a", { ceilings })]);
        expect([ceilings, v.targets[0]?.covered]).toEqual([ceilings, false]);
      }
    });
  });
});

describe("scopeIndex", () => {
  it("lists, per bound namespace, the sorted, de-duplicated, lower-cased prefixes", () => {
    const scopes = [
      scope("by-name", {
        namespaces: { names: ["team-a"] },
        azureScopes: [RG, `${SUB}/resourceGroups/Zeta`],
      }),
      scope("by-label", {
        namespaces: { selector: { matchLabels: { tier: "prod" } } },
        azureScopes: [RG.toUpperCase(), "/subscriptions", NSG],
      }),
    ];
    const index = scopeIndex(scopes, [teamB, { name: "team-c", labels: {} }, teamA]);
    expect([...index.keys()]).toEqual(["team-a", "team-b"]);
    expect(index.get("team-a")).toEqual([RG.toLowerCase(), `${SUB}/resourcegroups/zeta`]);
    expect(index.get("team-b")).toEqual([RG.toLowerCase(), NSG.toLowerCase()]);
    expect(index.has("team-c")).toBe(false);
  });

  it("is empty without scopes or namespaces", () => {
    expect(scopeIndex([], [teamA]).size).toBe(0);
    expect(scopeIndex([scope("s", {})], []).size).toBe(0);
  });

  it("binds every namespace for an empty selector", () => {
    const index = scopeIndex(
      [scope("all", { namespaces: { selector: {} }, azureScopes: [SUB] })],
      [teamA, teamB],
    );
    expect(Object.fromEntries(index)).toEqual({ "team-a": [SUB], "team-b": [SUB] });
  });
});
