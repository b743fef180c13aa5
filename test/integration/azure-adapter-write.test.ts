// Both write modes of the Azure adapter against the ARM emulator: `rule` (PUT/DELETE of
// drawbridge- rules) and `nsg` (whole-NSG PUT with If-Match), foreign rules untouched.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { AzureAdapter, AzureAdapterOptions } from "../../src/azure/adapter.ts";
import { AzureError } from "../../src/azure/port.ts";
import type { SecurityRule } from "../../src/core/nsg.ts";
import { startEmulator, type RunningEmulator } from "../../src/emulator/index.ts";
import { callLine, recordingAdapter } from "./azure-adapter-support.ts";

// Several tests wait out operations and Retry-After for seconds: a guard well above that, for a
// loaded machine.
jest.setTimeout(30_000);

const SUB = "00000000-0000-0000-0000-000000000001";
const NSGS = `/subscriptions/${SUB}/resourceGroups/demo-rg/providers/Microsoft.Network/networkSecurityGroups`;
const JUMP_NSG = `${NSGS}/jump-nsg`;
const NIC_NSG = `${NSGS}/web-1-nic-nsg`;
const TAGGED_NSG = `${NSGS}/tagged-nsg`;

interface ArmRuleDoc {
  name: string;
  etag?: string;
  properties: Record<string, unknown>;
  [k: string]: unknown;
}
interface ArmNsgDoc {
  etag?: string;
  tags?: Record<string, string>;
  properties: { securityRules?: ArmRuleDoc[]; [k: string]: unknown };
  [k: string]: unknown;
}

let emu: RunningEmulator;
const adapters: AzureAdapter[] = [];

/** An adapter on `on` (default the shared emulator), polling every 20 ms unless `extra` says otherwise. */
function adapter(
  extra: Partial<AzureAdapterOptions> = {},
  on: RunningEmulator = emu,
): { a: AzureAdapter; calls: string[] } {
  const made = recordingAdapter(on, callLine, { pollIntervalMs: 20, ...extra });
  adapters.push(made.a);
  return made;
}

function doc(id: string): ArmNsgDoc {
  return structuredClone(emu.getNsgDocument(id)) as ArmNsgDoc;
}

/** The stored foreign rules without their etags (Azure gives every rule the NSG's new etag on a write). */
function foreignRules(id: string): unknown[] {
  return (doc(id).properties.securityRules ?? [])
    .filter((r) => !r.name.startsWith("drawbridge-"))
    .map(({ etag: _etag, ...rest }) => rest);
}

/** The tagged NSG after a whole-NSG PUT: tags, other properties, default and foreign rules as before. */
function expectEveryPropertyKept(before: ArmNsgDoc): void {
  const after = doc(TAGGED_NSG);
  expect(after.tags).toEqual(before.tags);
  expect(after.properties["flushConnection"]).toBe(true);
  expect(after.properties["defaultSecurityRules"]).toEqual(
    (before.properties["defaultSecurityRules"] as ArmRuleDoc[]).map((r) => ({ ...r, etag: after.etag })),
  );
  expect(foreignRules(TAGGED_NSG)).toEqual(
    (before.properties.securityRules ?? []).map(({ etag: _e, ...rest }) => rest),
  );
}

function grant(name: string, priority: number, prefixes: string[]): SecurityRule {
  return {
    name,
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    description: "drawbridge grant team-a/web-admin port 22",
    sourceAddressPrefixes: prefixes,
    sourcePortRange: "*",
    destinationAddressPrefixes: ["10.0.2.4/32"],
    destinationPortRange: "22",
  };
}

beforeAll(async () => {
  emu = await startEmulator({ seedFile: "examples/seed.yaml" });
  emu.addResources([
    {
      id: TAGGED_NSG,
      name: "tagged-nsg",
      type: "Microsoft.Network/networkSecurityGroups",
      location: "westeurope",
      tags: { owner: "net-team", env: "prod" },
      properties: {
        flushConnection: true,
        securityRules: [
          {
            name: "allow-web-ranges",
            properties: {
              description: "web from partners",
              protocol: "Tcp",
              sourcePortRange: "*",
              destinationPortRanges: ["80", "443", "8000-8080"],
              sourceAddressPrefixes: ["198.51.100.0/24", "192.0.2.0/24"],
              destinationAddressPrefix: "VirtualNetwork",
              access: "Allow",
              priority: 250,
              direction: "Inbound",
            },
          },
          {
            name: "deny-all-out",
            properties: {
              protocol: "*",
              sourcePortRange: "*",
              destinationPortRange: "*",
              sourceAddressPrefix: "*",
              destinationAddressPrefix: "Internet",
              access: "Deny",
              priority: 4000,
              direction: "Outbound",
            },
          },
        ],
      },
    },
  ]);
});

afterAll(async () => {
  for (const a of adapters) a.close();
  await emu.close();
});

describe("rule write mode", () => {
  it("puts, updates and deletes a drawbridge rule, leaving foreign rules alone", async () => {
    const { a } = adapter();
    const foreignBefore = foreignRules(JUMP_NSG);
    await a.putRule(JUMP_NSG, grant("drawbridge-g-jump-tcp-22", 100, ["203.0.113.7/32"]));
    let nsg = await a.getNsg(JUMP_NSG);
    expect(nsg.securityRules.find((r) => r.name === "drawbridge-g-jump-tcp-22")).toMatchObject({
      priority: 100,
      sourceAddressPrefixes: ["203.0.113.7/32"],
      destinationPortRange: "22",
      provisioningState: "Succeeded",
    });

    await a.putRule(JUMP_NSG, grant("drawbridge-g-jump-tcp-22", 100, ["203.0.113.7/32", "203.0.113.9/32"]));
    nsg = await a.getNsg(JUMP_NSG);
    expect(
      nsg.securityRules.find((r) => r.name === "drawbridge-g-jump-tcp-22")?.sourceAddressPrefixes,
    ).toEqual(["203.0.113.7/32", "203.0.113.9/32"]);

    await a.deleteRule(JUMP_NSG, "drawbridge-g-jump-tcp-22");
    nsg = await a.getNsg(JUMP_NSG);
    expect(nsg.securityRules.some((r) => r.name.startsWith("drawbridge-"))).toBe(false);
    expect(foreignRules(JUMP_NSG)).toEqual(foreignBefore);
  });

  it("writes a rule in one PUT and one operation poll, deletes it in one DELETE and one poll", async () => {
    const { a, calls } = adapter();
    const name = "drawbridge-g-calls-tcp-22";
    await a.putRule(JUMP_NSG, grant(name, 140, ["203.0.113.7/32"]));
    // No GET of the rule once the operation succeeded: nothing reads its answer.
    expect(calls).toEqual(["PUT securityRules 201", "GET operations 200"]);
    calls.length = 0;
    await a.putRule(JUMP_NSG, grant(name, 140, ["203.0.113.8/32"]));
    expect(calls).toEqual(["PUT securityRules 200", "GET operations 200"]);
    const stored = doc(JUMP_NSG).properties.securityRules?.find((r) => r.name === name);
    expect(stored?.properties).toMatchObject({
      priority: 140,
      sourceAddressPrefixes: ["203.0.113.8/32"],
      destinationAddressPrefixes: ["10.0.2.4/32"],
      description: "drawbridge grant team-a/web-admin port 22",
      provisioningState: "Succeeded",
    });
    calls.length = 0;
    await a.deleteRule(JUMP_NSG, name);
    expect(calls).toEqual(["DELETE securityRules 202", "GET operations 200"]);
    expect(doc(JUMP_NSG).properties.securityRules?.some((r) => r.name === name)).toBe(false);
  });

  it("treats deleting an absent rule as done", async () => {
    const { a, calls } = adapter();
    await a.deleteRule(JUMP_NSG, "drawbridge-never-existed");
    expect(calls).toEqual(["DELETE securityRules 204"]);
    // A missing NSG answers 404: nothing left to revoke either.
    await a.deleteRule(`${NSGS}/no-such-nsg`, "drawbridge-never-existed");
    expect(calls[1]).toBe("DELETE securityRules 404");
  });

  it("refuses to write or delete a foreign rule, without calling ARM", async () => {
    const { a, calls } = adapter();
    await expect(a.putRule(JUMP_NSG, grant("allow-https", 300, ["*"]))).rejects.toMatchObject({
      kind: "Invalid",
      code: "ForeignRuleRefused",
    });
    await expect(a.deleteRule(JUMP_NSG, "deny-all-out")).rejects.toMatchObject({
      code: "ForeignRuleRefused",
    });
    expect(calls).toEqual([]);
    expect(foreignRules(JUMP_NSG).map((r) => (r as ArmRuleDoc).name)).toContain("deny-all-out");
  });

  it("surfaces Azure's validation errors as Invalid / Conflict with the ARM code", async () => {
    const { a } = adapter();
    const bad = (await a
      .putRule(JUMP_NSG, grant("drawbridge-bad", 5000, ["203.0.113.7/32"]))
      .catch((e: unknown) => e)) as AzureError;
    expect(bad).toBeInstanceOf(AzureError);
    expect(bad.kind).toBe("Invalid");
    expect(bad.statusCode).toBe(400);
    expect(bad.code).toMatch(/Priority/i);
    // Same priority and direction as the foreign allow-https (300): SecurityRuleConflict.
    const clash = (await a
      .putRule(JUMP_NSG, grant("drawbridge-clash", 300, ["203.0.113.7/32"]))
      .catch((e: unknown) => e)) as AzureError;
    expect(clash.code).toBe("SecurityRuleConflict");
    expect(clash.kind).toBe("Invalid");
    expect(clash.statusCode).toBe(400);
    expect(clash.retryable).toBe(false);
    expect(clash.message).toMatch(/conflicts with rule allow-https/);
  });
});

describe("long-running operations", () => {
  it("gives up on a write ARM does not finish within operationTimeoutMs", async () => {
    const stuck = await startEmulator({
      seedFile: "examples/seed.yaml",
      lroMode: "async",
      lroDurationMs: 20_000,
    });
    try {
      const { a } = adapter({ pollIntervalMs: 25, operationTimeoutMs: 600 }, stuck);
      const started = Date.now();
      const e = (await a
        .putRule(JUMP_NSG, grant("drawbridge-stuck", 100, ["203.0.113.7/32"]))
        .catch((x: unknown) => x)) as AzureError;
      expect(e).toBeInstanceOf(AzureError);
      expect(e.kind).toBe("Transient");
      expect(e.code).toBe("OperationAborted");
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await stuck.close();
    }
  });
  it("polls an asynchronous rule write until ARM says it is done, waiting out Retry-After", async () => {
    const slow = await startEmulator({
      seedFile: "examples/seed.yaml",
      lroMode: "async",
      lroDurationMs: 300,
    });
    try {
      const started = Date.now();
      const { a, calls } = recordingAdapter(
        slow,
        (op, status): [string, number] => [callLine(op, status), Date.now() - started],
        { pollIntervalMs: 20 },
      );
      adapters.push(a);
      const name = "drawbridge-g-slow";
      await a.putRule(JUMP_NSG, grant(name, 102, ["203.0.113.7/32"]));
      // In place once putRule resolved, without the adapter reading it.
      const rules = (slow.getNsgDocument(JUMP_NSG) as ArmNsgDoc).properties.securityRules ?? [];
      expect(rules.find((r) => r.name === name)?.properties["provisioningState"]).toBe("Succeeded");
      // The first poll at once (InProgress, Retry-After: 1), the next a second later, not every 20 ms.
      expect(calls.map(([c]) => c)).toEqual([
        "PUT securityRules 201",
        "GET operations 200",
        "GET operations 200",
      ]);
      const [put, first, second] = calls.map(([, ms]) => ms) as [number, number, number];
      expect(first - put).toBeLessThan(900);
      expect(second - first).toBeGreaterThanOrEqual(950);

      calls.length = 0;
      await a.deleteRule(JUMP_NSG, name);
      expect(calls.map(([c]) => c)).toEqual([
        "DELETE securityRules 202",
        "GET operations 200",
        "GET operations 200",
      ]);
      const after = (slow.getNsgDocument(JUMP_NSG) as ArmNsgDoc).properties.securityRules ?? [];
      expect(after.some((r) => r.name === name)).toBe(false);
    } finally {
      await slow.close();
    }
  });
});

describe("nsg write mode", () => {
  it("replaces the managed rules in one If-Match PUT and keeps everything else as it was", async () => {
    const { a, calls } = adapter();
    const before = doc(TAGGED_NSG);
    const observed = await a.getNsg(TAGGED_NSG);
    const written = await a.replaceRules(observed, [
      ...observed.securityRules, // foreign rules passed back are kept as read
      grant("drawbridge-g-a", 100, ["203.0.113.7/32"]),
      {
        ...grant("drawbridge-d-a", 199, ["*"]),
        access: "Deny",
        sourceAddressPrefixes: undefined,
        sourceAddressPrefix: "*",
      },
    ]);
    expect(calls.filter((c) => c.startsWith("PUT"))).toEqual(["PUT networkSecurityGroups 200"]);
    expect(written.etag).not.toBe(observed.etag);
    expect(written.securityRules.map((r) => r.name)).toEqual([
      "allow-web-ranges",
      "deny-all-out",
      "drawbridge-g-a",
      "drawbridge-d-a",
    ]);
    expectEveryPropertyKept(before);

    // Second reconcile: grants gone -> only foreign rules remain.
    const emptied = await a.replaceRules(written, []);
    expect(emptied.securityRules.map((r) => r.name)).toEqual(["allow-web-ranges", "deny-all-out"]);
    expect(foreignRules(TAGGED_NSG)).toEqual(
      (before.properties.securityRules ?? []).map(({ etag: _e, ...rest }) => rest),
    );
  });

  it("reads a listed NSG before its PUT (lists keep no SDK document) and keeps every property", async () => {
    const { a, calls } = adapter();
    const before = doc(TAGGED_NSG);
    const listed = (await a.listNsgs(SUB)).find((n) => n.id.toLowerCase() === TAGGED_NSG.toLowerCase());
    if (listed === undefined) throw new Error("tagged-nsg not listed");
    calls.length = 0;
    const written = await a.replaceRules(listed, [grant("drawbridge-g-listed", 100, ["203.0.113.7/32"])]);
    // One read for the whole document, then the PUT (then the SDK's own polling).
    expect(calls.slice(0, 2)).toEqual(["GET networkSecurityGroups 200", "PUT networkSecurityGroups 200"]);
    expectEveryPropertyKept(before);
    await a.replaceRules(written, []);
  });

  it("fails with PreconditionFailed on a stale etag and writes nothing", async () => {
    const { a } = adapter();
    const stale = await a.getNsg(JUMP_NSG);
    // Someone else writes in between.
    await a.putRule(JUMP_NSG, grant("drawbridge-other", 120, ["203.0.113.50/32"]));
    const current = doc(JUMP_NSG);
    const e = (await a
      .replaceRules(stale, [grant("drawbridge-mine", 110, ["203.0.113.7/32"])])
      .catch((x: unknown) => x)) as AzureError;
    expect(e).toBeInstanceOf(AzureError);
    expect(e.kind).toBe("PreconditionFailed");
    expect(e.statusCode).toBe(412);
    expect(doc(JUMP_NSG)).toEqual(current);

    // A copy of the stale ObservedNsg (not the adapter's own object) is checked by a fresh read.
    const e2 = (await a.replaceRules({ ...stale }, []).catch((x: unknown) => x)) as AzureError;
    expect(e2.kind).toBe("PreconditionFailed");
    expect(doc(JUMP_NSG)).toEqual(current);
    await a.deleteRule(JUMP_NSG, "drawbridge-other");
  });

  it("refuses to add a foreign rule or to write without an etag", async () => {
    const { a, calls } = adapter();
    const observed = await a.getNsg(NIC_NSG);
    await expect(a.replaceRules(observed, [{ ...grant("open-all", 150, ["*"]) }])).rejects.toMatchObject({
      code: "ForeignRuleRefused",
    });
    await expect(a.replaceRules({ ...observed, etag: undefined }, [])).rejects.toMatchObject({
      code: "MissingEtag",
    });
    expect(calls.filter((c) => !c.startsWith("GET"))).toEqual([]);
  });

  it("waits for an asynchronous operation to finish", async () => {
    const slow = await startEmulator({
      seedFile: "examples/seed.yaml",
      lroMode: "async",
      lroDurationMs: 150,
    });
    try {
      const { a } = adapter({ pollIntervalMs: 25 }, slow);
      const observed = await a.getNsg(JUMP_NSG);
      const written = await a.replaceRules(observed, [grant("drawbridge-g-async", 100, ["203.0.113.7/32"])]);
      expect(written.securityRules.map((r) => r.name)).toContain("drawbridge-g-async");
      await a.putRule(JUMP_NSG, grant("drawbridge-g-async2", 101, ["203.0.113.8/32"]));
      expect(
        (await a.getNsg(JUMP_NSG)).securityRules.find((r) => r.name === "drawbridge-g-async2")
          ?.provisioningState,
      ).toBe("Succeeded");
    } finally {
      await slow.close();
    }
  });
});
