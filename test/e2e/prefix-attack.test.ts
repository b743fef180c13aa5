// The "very short prefix" attack, end to end: port 3389 of the example policy lists no sources, so
// alice tries to open it to the whole Internet with two half-Internet prefixes, then with the widest
// prefixes admission lets through, then by piling up narrow grants on one rule. Each attempt must
// fail with its reason, and no allow rule in any NSG may carry what was refused.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { ALL_NSGS, JUMP_NSG, Stack, eventually, portsOf, sourcesOf } from "./harness.ts";
import type { Rule } from "./harness.ts";
import { unionAddressCount } from "../../src/core/cidr.ts";

jest.setTimeout(120_000);

let stack: Stack;

function allows(nsgId: string): Rule[] {
  return stack.managed(nsgId).filter((r) => r.properties.access === "Allow");
}

/** Every source any managed allow rule of any NSG carries. */
function allowedSources(): string[] {
  return ALL_NSGS.flatMap((id) => allows(id).flatMap(sourcesOf));
}

async function rdpFrom(source: string, targets?: string[]): Promise<string> {
  return stack.createRequest({
    ports: [3389],
    sourceAddressPrefix: source,
    justification: "prefix attack",
    ...(targets === undefined ? {} : { targets }),
  });
}

async function settled(name: string): Promise<{ phase: string; reason: string; message: string }> {
  return eventually(`${name} to be decided`, async () => {
    const status = (await stack.getRequest(name))?.status;
    const phase = status?.phase as string | undefined;
    if (phase !== "Active" && phase !== "Denied") return undefined;
    const text = (v: unknown): string => (typeof v === "string" ? v : "");
    return { phase, reason: text(status?.reason), message: text(status?.message) };
  });
}

beforeAll(async () => {
  stack = await Stack.start("prefix");
  stack.startOperator();
  await stack.applyPolicy();
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

describe("very short prefixes on a port that lists no sources", () => {
  test.each([
    ["IPv4", "0.0.0.0/1", "128.0.0.0/1"],
    ["IPv6", "::/1", "8000::/1"],
  ])("%s: the two halves of the Internet are refused at admission", async (_family, a, b) => {
    for (const source of [a, b]) {
      const err = await rdpFrom(source).then(
        () => undefined,
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
      expect(err).toContain("spec.sourceAddressPrefix");
      expect(err).toContain("wider than any policy accepts");
      expect(err).toContain(source);
    }
    expect(allowedSources()).toEqual([]);
  });

  test.each([
    ["IPv4", ["0.0.0.0/8", "128.0.0.0/8", "198.51.100.0/23"], "ipv4"],
    ["IPv6", ["2000::/16", "2001:db8::/47"], "ipv6"],
  ])("%s: what admission lets through is Denied with SourcePrefixTooWide", async (_f, sources, key) => {
    const names = await Promise.all(sources.map((s) => rdpFrom(s)));
    for (const [i, name] of names.entries()) {
      const s = await settled(name);
      expect({ source: sources[i], phase: s.phase, reason: s.reason }).toEqual({
        source: sources[i],
        phase: "Denied",
        reason: "SourcePrefixTooWide",
      });
      expect(s.message).toContain("spec.sourceAddressPrefix");
      expect(s.message).toContain(`minimumSourcePrefixLength.${key}`);
    }
    for (const source of sources) expect(allowedSources()).not.toContain(source);
  });
});

describe("many narrow grants on one rule", () => {
  const slash24 = (i: number): string => `198.51.${100 + i}.0/24`;

  test("concurrent requests stop at the port's union bound; a closed grant makes room again", async () => {
    // Four /24s (1,024 addresses) per allow rule on 3389; the rest of the example policy unchanged.
    await stack.applyPolicy((doc) => {
      const ports = (doc.spec as { ports: Record<string, unknown>[] }).ports;
      const rdp = ports.find((p) => p.number === 3389);
      if (rdp === undefined) throw new Error("the example policy has no port 3389");
      rdp.sourceUnionPrefixLength = { ipv4: 22 };
    });
    const names = await Promise.all([0, 1, 2, 3, 4].map((i) => rdpFrom(slash24(i), [JUMP_NSG])));
    const decided = await Promise.all(names.map(settled));
    const active = names.filter((_, i) => decided[i]?.phase === "Active");
    const denied = decided.filter((d) => d.phase === "Denied");
    expect(active).toHaveLength(4);
    expect(denied.map((d) => d.reason)).toEqual(["SourceUnionTooWide"]);
    expect(denied[0]?.message).toContain("sourceUnionPrefixLength.ipv4");

    const rdpAllows = (): Rule[] => allows(JUMP_NSG).filter((r) => portsOf(r).includes("3389"));
    const carried = await eventually("the four grants on jump-nsg", () => {
      const sources = rdpAllows().flatMap(sourcesOf);
      return sources.length === 4 ? sources : undefined;
    });
    expect(unionAddressCount(carried, "IPv4")).toBe(1024n);
    const refused = [0, 1, 2, 3, 4].map(slash24).find((s) => !carried.includes(s));
    expect(refused).toBeDefined();

    // Revoking one grant makes room: the refused source can be asked for again.
    await stack.kubectlOk(
      [
        "patch",
        "accessrequest",
        active[0] ?? "",
        "-n",
        stack.ns,
        "--type=merge",
        "-p",
        '{"spec":{"revoked":true}}',
      ],
      { as: "alice" },
    );
    const again = await rdpFrom(refused ?? "", [JUMP_NSG]);
    // The revocation may not have reached the grant index when the new request is decided.
    const retry = await settled(again);
    if (retry.phase === "Denied") {
      expect(retry.reason).toBe("SourceUnionTooWide");
      await eventually(
        "the revoked grant to leave jump-nsg",
        () => rdpAllows().flatMap(sourcesOf).length === 3,
      );
      expect((await settled(await rdpFrom(refused ?? "", [JUMP_NSG]))).phase).toBe("Active");
    }
    const after = await eventually("the new grant on jump-nsg", () => {
      const sources = rdpAllows().flatMap(sourcesOf);
      return sources.includes(refused ?? "") ? sources : undefined;
    });
    expect(after).toHaveLength(4);
    expect(unionAddressCount(after, "IPv4")).toBe(1024n);
  });
});
