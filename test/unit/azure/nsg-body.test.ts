import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { NetworkSecurityGroup, SecurityRule as SdkSecurityRule } from "@azure/arm-network";
import { buildNsgPutBody } from "../../../src/azure/nsg-body.ts";

const foreign = {
  name: "allow-https",
  id: "/x/securityRules/allow-https",
  etag: 'W/"3"',
  priority: 300,
  direction: "Inbound",
  access: "Allow",
  protocol: "Tcp",
  destinationPortRange: "443",
  sourceApplicationSecurityGroups: [{ id: "/asg/web" }],
};
const observed: NetworkSecurityGroup = {
  id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n",
  location: "westeurope",
  tags: { owner: "net-team" },
  flushConnection: true,
  etag: 'W/"3"',
  securityRules: [
    foreign,
    { name: "drawbridge-old", priority: 100, direction: "Inbound", access: "Allow", protocol: "Tcp" },
  ],
};
const managed = {
  name: "drawbridge-new",
  priority: 101,
  direction: "Inbound" as const,
  access: "Allow" as const,
  protocol: "Tcp" as const,
  destinationPortRange: "22",
};

describe("buildNsgPutBody", () => {
  it("keeps every other property and foreign rule as read, and replaces only managed rules", () => {
    const body = buildNsgPutBody(observed, [managed]);
    expect(body.tags).toEqual({ owner: "net-team" });
    expect(body.flushConnection).toBe(true);
    expect(body.location).toBe("westeurope");
    expect(body.securityRules?.[0]).toBe(foreign); // the very object read, ASGs and all
    expect(body.securityRules?.map((r) => r.name)).toEqual(["allow-https", "drawbridge-new"]);
  });

  it("ignores a caller's copy of a foreign rule: the rule read from ARM wins", () => {
    const tampered = { ...managed, name: "allow-https", priority: 150 };
    const body = buildNsgPutBody(observed, [tampered, managed]);
    expect(body.securityRules?.[0]).toBe(foreign);
    expect(body.securityRules).toHaveLength(2);
  });

  it("refuses to add a foreign rule or a duplicate name", () => {
    expect(() => buildNsgPutBody(observed, [{ ...managed, name: "open-everything" }])).toThrow(
      /refusing to write foreign rule/,
    );
    expect(() => buildNsgPutBody(observed, [managed, { ...managed, priority: 102 }])).toThrow(
      /appears twice/,
    );
  });

  it("deletes every managed rule when none is desired, and no foreign one", () => {
    expect(buildNsgPutBody(observed, []).securityRules).toEqual([foreign]);
  });
});

describe("buildNsgPutBody (property)", () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/);
  const sdkRule = (n: string, priority: number): SdkSecurityRule => ({
    name: n,
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    destinationPortRange: String(priority),
  });

  it("always sends every foreign rule as read, in order, and exactly the desired managed rules", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { maxLength: 8 }),
        fc.uniqueArray(name, { maxLength: 8 }),
        fc.uniqueArray(name, { maxLength: 8 }),
        fc.boolean(),
        (foreignNames, oldManaged, newManaged, echoForeign) => {
          const foreignRules = foreignNames.map((n, i) => sdkRule(n, 200 + i));
          const doc: NetworkSecurityGroup = {
            ...observed,
            securityRules: [
              ...foreignRules,
              ...oldManaged.map((n, i) => sdkRule(`drawbridge-${n}`, 100 + i)),
            ],
          };
          const desired = newManaged.map((n, i) => ({
            ...managed,
            name: `drawbridge-${n}`,
            priority: 150 + i,
          }));
          const echoed = echoForeign
            ? foreignNames.map((n) => ({ ...managed, name: n, priority: 4000 }))
            : [];
          const body = buildNsgPutBody(doc, [...echoed, ...desired]);
          const rules = body.securityRules ?? [];
          rules.slice(0, foreignRules.length).forEach((r, i) => {
            expect(r).toBe(foreignRules[i]);
          });
          expect(rules.slice(foreignRules.length).map((r) => r.name)).toEqual(desired.map((d) => d.name));
        },
      ),
    );
  });
});
