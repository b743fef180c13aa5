// Writes: etags and preconditions, one write at a time per NSG, validation with Azure's codes
// (and no partial writes), long-running operations.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { startEmulator, type RunningEmulator } from "../../../src/emulator/index.ts";
import { API, call, NSG_PATH, ruleBody, SEED_FILE, type HttpAnswer } from "./support.ts";

// Some tests hold an NSG or an operation for seconds: a guard well above that, for a loaded machine.
jest.setTimeout(30_000);

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ seedFile: SEED_FILE, throttle: false });
});

afterAll(async () => {
  await emu.close();
});

const http = (method: string, path: string, opts: Parameters<typeof call>[4] = {}): Promise<HttpAnswer> =>
  call(emu.endpoint, emu.caPem, method, path.includes("?") ? path : `${path}?${API}`, opts);
/** Resolves once the emulator has taken one more write than `before` (it then holds the NSG). */
async function writeArrived(before: number): Promise<void> {
  while (emu.stats().writes <= before) await new Promise((r) => setTimeout(r, 10));
}
const code = (a: HttpAnswer): string | undefined => (a.body as { error?: { code?: string } }).error?.code;
const etagOf = async (nsg: string): Promise<string> =>
  ((await http("GET", `${NSG_PATH}/${nsg}`)).body as { etag: string }).etag;

describe("etags and preconditions", () => {
  test("every write gives the NSG and its rules one new etag", async () => {
    const before = await etagOf("web-subnet-nsg");
    const put = await http("PUT", `${NSG_PATH}/web-subnet-nsg/securityRules/drawbridge-e`, {
      body: ruleBody(101),
    });
    expect(put.status).toBe(201);
    const nsg = (await http("GET", `${NSG_PATH}/web-subnet-nsg`)).body as {
      etag: string;
      properties: { securityRules: { etag: string }[] };
    };
    expect(nsg.etag).not.toBe(before);
    expect(nsg.etag).toMatch(/^W\/"[0-9a-f-]{36}"$/);
    expect(new Set(nsg.properties.securityRules.map((r) => r.etag))).toEqual(new Set([nsg.etag]));
  });

  test("stale If-Match on an NSG PUT: 412 PreconditionFailed and nothing changes", async () => {
    const stale = await etagOf("jump-nsg");
    await http("PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-s`, { body: ruleBody(102) });
    const current = await etagOf("jump-nsg");
    const a = await http("PUT", `${NSG_PATH}/jump-nsg`, {
      body: { location: "westeurope", properties: { securityRules: [] } },
      headers: { "If-Match": stale },
    });
    expect(a.status).toBe(412);
    expect(code(a)).toBe("PreconditionFailed");
    expect(await etagOf("jump-nsg")).toBe(current);
    const ok = await http("PUT", `${NSG_PATH}/jump-nsg`, {
      body: { location: "westeurope", properties: { securityRules: [{ name: "only", ...ruleBody(200) }] } },
      headers: { "If-Match": current },
    });
    expect(ok.status).toBe(200);
  });

  test("If-None-Match: * refuses to overwrite an existing rule; If-Match on an absent rule fails", async () => {
    const a = await http("PUT", `${NSG_PATH}/web-1-nic-nsg/securityRules/allow-https`, {
      body: ruleBody(300, { destinationPortRange: "443" }),
      headers: { "If-None-Match": "*" },
    });
    expect(a.status).toBe(412);
    const b = await http("PUT", `${NSG_PATH}/web-1-nic-nsg/securityRules/drawbridge-new`, {
      body: ruleBody(103),
      headers: { "If-Match": 'W/"00000000-0000-0000-0000-000000000000"' },
    });
    expect(b.status).toBe(412);
  });
});

describe("one write at a time per NSG", () => {
  test("a concurrent write on the same NSG gets 409 AnotherOperationInProgress; other NSGs proceed", async () => {
    emu.setLatency({ write: 2_000 });
    try {
      // The others start once the first holds jump-nsg: they certainly arrive while it is busy.
      const writes = emu.stats().writes;
      const firstPut = http("PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-c1`, {
        body: ruleBody(110),
      });
      await writeArrived(writes);
      const [first, second, third, other] = await Promise.all([
        firstPut,
        http("PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-c2`, { body: ruleBody(111) }),
        http("PUT", `${NSG_PATH}/jump-nsg`, { body: { location: "westeurope" } }),
        http("PUT", `${NSG_PATH}/web-1-nic-nsg/securityRules/drawbridge-c3`, { body: ruleBody(112) }),
      ]);
      const statuses = [first.status, second.status, third.status].sort();
      expect(statuses.filter((s) => s === 409)).toHaveLength(2);
      const refused = [first, second, third].filter((a) => a.status === 409);
      for (const r of refused) {
        expect(code(r)).toBe("AnotherOperationInProgress");
        expect((r.body as { error: { message: string } }).error.message).toContain("/operations/");
      }
      expect(other.status).toBe(201);
    } finally {
      emu.setLatency({});
    }
  });

  test("rule DELETE is serialized too", async () => {
    await http("PUT", `${NSG_PATH}/web-1-nic-nsg/securityRules/drawbridge-d`, { body: ruleBody(120) });
    emu.setLatency({ write: 2_000 });
    try {
      // The PUT starts once the DELETE holds the NSG: it certainly arrives while it is busy.
      const writes = emu.stats().writes;
      const deleting = http("DELETE", `${NSG_PATH}/web-1-nic-nsg/securityRules/drawbridge-d`);
      await writeArrived(writes);
      const [del, put] = await Promise.all([
        deleting,
        http("PUT", `${NSG_PATH}/web-1-nic-nsg/securityRules/drawbridge-d2`, { body: ruleBody(121) }),
      ]);
      expect([del.status, put.status].sort()).toEqual([202, 409]);
    } finally {
      emu.setLatency({});
    }
  });
});

describe("validation", () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ["priority below 100", { priority: 99 }, "SecurityRuleInvalidPriority"],
    ["priority above 4096", { priority: 4097 }, "SecurityRuleInvalidPriority"],
    ["port out of range", { destinationPortRange: "70000" }, "SecurityRuleInvalidPortRange"],
    ["reversed port range", { destinationPortRange: "30-20" }, "SecurityRuleInvalidPortRange"],
    ["both port forms", { destinationPortRanges: ["22"] }, "SecurityRuleInvalidPortRange"],
    ["bad prefix", { sourceAddressPrefix: "10.0.0.300/32" }, "SecurityRuleInvalidAddressPrefix"],
    ["host bits set", { sourceAddressPrefix: "10.0.0.5/24" }, "SecurityRuleInvalidAddressPrefix"],
    [
      "tag in plural prefixes",
      { sourceAddressPrefix: undefined, sourceAddressPrefixes: ["Internet"] },
      "SecurityRuleParameterContainsUnsupportedValue",
    ],
    [
      "both prefix forms",
      { sourceAddressPrefixes: ["10.0.0.0/8"] },
      "SecurityRuleParameterContainsUnsupportedValue",
    ],
    ["bad protocol", { protocol: "Gre" }, "InvalidRequestFormat"],
    ["missing direction", { direction: undefined }, "InvalidRequestFormat"],
    ["description over 140", { description: "d".repeat(141) }, "SecurityRuleDescriptionTooLong"],
  ];

  test.each(bad)("%s: 400 %s... and the NSG is unchanged", async (_what, change, expected) => {
    const before = await etagOf("jump-nsg");
    const a = await http("PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-v`, {
      body: ruleBody(150, change),
    });
    expect(a.status).toBe(400);
    expect(code(a)).toBe(expected);
    expect(await etagOf("jump-nsg")).toBe(before);
  });

  test("duplicate priority and direction: SecurityRuleConflict naming both rules", async () => {
    const a = await http("PUT", `${NSG_PATH}/web-1-nic-nsg/securityRules/drawbridge-dup`, {
      body: ruleBody(300),
    });
    expect(a.status).toBe(400);
    expect(code(a)).toBe("SecurityRuleConflict");
    expect((a.body as { error: { message: string } }).error.message).toContain("allow-https");
  });

  test("names: over 80 characters or bad characters: InvalidResourceName", async () => {
    const long = await http("PUT", `${NSG_PATH}/jump-nsg/securityRules/${"n".repeat(81)}`, {
      body: ruleBody(151),
    });
    expect(code(long)).toBe("InvalidResourceName");
    const chars = await http("PUT", `${NSG_PATH}/jump-nsg/securityRules/bad%20name`, { body: ruleBody(151) });
    expect(code(chars)).toBe("InvalidResourceName");
    const ok = await http("PUT", `${NSG_PATH}/jump-nsg/securityRules/${"n".repeat(80)}`, {
      body: ruleBody(151),
    });
    expect(ok.status).toBe(201);
  });

  test("more than 1,000 rules: SecurityRuleCountLimitReached; 1,000 is accepted", async () => {
    const rules = (n: number): unknown[] =>
      Array.from({ length: n }, (_, i) => ({
        name: `r${i}`,
        ...ruleBody(100 + (i % 2000), { direction: i < 2000 ? "Inbound" : "Outbound" }),
      }));
    const over = await http("PUT", `${NSG_PATH}/limit-nsg`, {
      body: { location: "westeurope", properties: { securityRules: rules(1001) } },
    });
    expect(over.status).toBe(400);
    expect(code(over)).toBe("SecurityRuleCountLimitReached");
    expect((await http("GET", `${NSG_PATH}/limit-nsg`)).status).toBe(404);
    const at = await http("PUT", `${NSG_PATH}/limit-nsg`, {
      body: { location: "westeurope", properties: { securityRules: rules(1000) } },
    });
    expect(at.status).toBe(201);
  });

  test("more than 4,000 address prefixes per NSG: refused", async () => {
    const prefixes = (start: number, n: number): string[] =>
      Array.from(
        { length: n },
        (_, i) => `10.${Math.floor((start + i) / 256) % 256}.${(start + i) % 256}.0/24`,
      );
    const rules = [0, 1].map((k) => ({
      name: `p${k}`,
      ...ruleBody(100 + k, {
        sourceAddressPrefix: undefined,
        sourceAddressPrefixes: prefixes(k * 2000, 2000),
        destinationAddressPrefix: "10.255.0.0/16",
      }),
    }));
    const a = await http("PUT", `${NSG_PATH}/prefix-nsg`, {
      body: { location: "westeurope", properties: { securityRules: rules } },
    });
    expect(a.status).toBe(400);
    expect(code(a)).toBe("SecurityRuleAddressPrefixesLimitReached");
  });

  test("malformed JSON: 400 InvalidRequestFormat and nothing changes", async () => {
    const before = await etagOf("jump-nsg");
    const a = await http("PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-j`, {
      rawBody: '{"properties": {',
    });
    expect(a.status).toBe(400);
    expect(code(a)).toBe("InvalidRequestFormat");
    const b = await http("PUT", `${NSG_PATH}/jump-nsg`, { rawBody: "[1,2]" });
    expect(code(b)).toBe("InvalidRequestFormat");
    expect(await etagOf("jump-nsg")).toBe(before);
  });

  test("an NSG without location: LocationRequired; an NSG in use cannot be deleted", async () => {
    const a = await http("PUT", `${NSG_PATH}/no-location`, { body: { properties: {} } });
    expect(code(a)).toBe("LocationRequired");
    const d = await http("DELETE", `${NSG_PATH}/web-1-nic-nsg`);
    expect(d.status).toBe(400);
    expect(code(d)).toBe("InUseNetworkSecurityGroupCannotBeDeleted");
  });
});

describe("long-running operations", () => {
  test("PUT answers Updating with Azure-AsyncOperation; DELETE answers 202 with Location; both poll to Succeeded", async () => {
    const put = await http("PUT", `${NSG_PATH}/lro-nsg`, { body: { location: "westeurope" } });
    expect(put.status).toBe(201);
    expect((put.body as { properties: { provisioningState: string } }).properties.provisioningState).toBe(
      "Updating",
    );
    const op = String(put.headers["azure-asyncoperation"]);
    expect(op).toContain("/providers/Microsoft.Network/locations/westeurope/operations/");
    expect((await call(emu.endpoint, emu.caPem, "GET", op)).body).toEqual({ status: "Succeeded" });
    const del = await http("DELETE", `${NSG_PATH}/lro-nsg`);
    expect(del.status).toBe(202);
    const result = await call(emu.endpoint, emu.caPem, "GET", String(del.headers["location"]));
    expect(result.status).toBe(204);
    expect((await http("GET", `${NSG_PATH}/lro-nsg`)).status).toBe(404);
    expect((await http("DELETE", `${NSG_PATH}/lro-nsg`)).status).toBe(204);
  });

  test("async mode: InProgress, the NSG busy and Updating until the operation completes", async () => {
    const slow = await startEmulator({
      seedFile: SEED_FILE,
      throttle: false,
      lroMode: "async",
      // Far longer than the three requests below take, however loaded the machine.
      lroDurationMs: 5_000,
    });
    try {
      const req = (m: string, p: string, o: Parameters<typeof call>[4] = {}): Promise<HttpAnswer> =>
        call(slow.endpoint, slow.caPem, m, `${p}?${API}`, o);
      const put = await req("PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-a`, {
        body: ruleBody(160),
      });
      const op = String(put.headers["azure-asyncoperation"]);
      expect((await call(slow.endpoint, slow.caPem, "GET", op)).body).toEqual({ status: "InProgress" });
      const rule = await req("GET", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-a`);
      expect((rule.body as { properties: { provisioningState: string } }).properties.provisioningState).toBe(
        "Updating",
      );
      expect(
        (await req("PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-b`, { body: ruleBody(161) })).status,
      ).toBe(409);
      let status: unknown;
      for (let i = 0; i < 150 && (status as { status?: string } | undefined)?.status !== "Succeeded"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await call(slow.endpoint, slow.caPem, "GET", op)).body;
      }
      expect(status).toEqual({ status: "Succeeded" });
      const after = await req("GET", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-a`);
      expect((after.body as { properties: { provisioningState: string } }).properties.provisioningState).toBe(
        "Succeeded",
      );
    } finally {
      await slow.close();
    }
  });
});
