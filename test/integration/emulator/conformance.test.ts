// Conformance with the official specs: every NSG, rule, list, operation and error body the
// emulator answers validates against the Swagger definitions (no unknown keys), and every
// official x-ms-example request is accepted with an answer of the example's shape.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startEmulator, type RunningEmulator } from "../../../src/emulator/index.ts";
import { loadValidators, missingShape, networkDir, type SpecValidators } from "./specs.ts";
import { API, call, NSG_PATH, ruleBody, SEED_FILE, type HttpAnswer } from "./support.ts";

let emu: RunningEmulator;
let specs: SpecValidators;

beforeAll(async () => {
  specs = loadValidators();
  emu = await startEmulator({ seedFile: SEED_FILE, throttle: false, pageSize: 2 });
});

afterAll(async () => {
  await emu.close();
});

const http = (method: string, path: string, body?: unknown): Promise<HttpAnswer> =>
  call(emu.endpoint, emu.caPem, method, path, body === undefined ? {} : { body });

function expectValid(definition: string, answer: HttpAnswer): void {
  expect({ definition, errors: specs.validate(definition, answer.body) }).toEqual({ definition, errors: [] });
}

describe("answers validate against the official schemas", () => {
  test("NSG get, create, update, tags, list, listAll (paged)", async () => {
    expectValid("NetworkSecurityGroup", await http("GET", `${NSG_PATH}/web-1-nic-nsg?${API}`));
    const created = await http("PUT", `${NSG_PATH}/conf-nsg?${API}`, {
      location: "westeurope",
      tags: { team: "a" },
      properties: { securityRules: [{ name: "r1", ...ruleBody(120) }] },
    });
    expect(created.status).toBe(201);
    expectValid("NetworkSecurityGroup", created);
    const updated = await http("PUT", `${NSG_PATH}/conf-nsg?${API}`, {
      location: "westeurope",
      properties: { flushConnection: true },
    });
    expect(updated.status).toBe(200);
    expectValid("NetworkSecurityGroup", updated);
    expectValid(
      "NetworkSecurityGroup",
      await http("PATCH", `${NSG_PATH}/conf-nsg?${API}`, { tags: { a: "b" } }),
    );
    const page1 = await http("GET", `${NSG_PATH}?${API}`);
    expectValid("NetworkSecurityGroupListResult", page1);
    const next = (page1.body as { nextLink?: string }).nextLink;
    expect(next).toContain("$skiptoken=");
    expectValid("NetworkSecurityGroupListResult", await http("GET", next ?? ""));
    expectValid(
      "NetworkSecurityGroupListResult",
      await http(
        "GET",
        `/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Network/networkSecurityGroups?${API}`,
      ),
    );
  });

  test("security rules and default rules: get, create, update, list", async () => {
    const created = await http(
      "PUT",
      `${NSG_PATH}/jump-nsg/securityRules/drawbridge-c?${API}`,
      ruleBody(130, { description: "x" }),
    );
    expect(created.status).toBe(201);
    expectValid("SecurityRule", created);
    const updated = await http(
      "PUT",
      `${NSG_PATH}/jump-nsg/securityRules/drawbridge-c?${API}`,
      ruleBody(131, { destinationPortRange: undefined, destinationPortRanges: ["22", "2200-2210"] }),
    );
    expect(updated.status).toBe(200);
    expectValid("SecurityRule", updated);
    expectValid("SecurityRule", await http("GET", `${NSG_PATH}/jump-nsg/securityRules/allow-https?${API}`));
    expectValid("SecurityRuleListResult", await http("GET", `${NSG_PATH}/jump-nsg/securityRules?${API}`));
    expectValid(
      "SecurityRule",
      await http("GET", `${NSG_PATH}/jump-nsg/defaultSecurityRules/DenyAllInBound?${API}`),
    );
    expectValid(
      "SecurityRuleListResult",
      await http("GET", `${NSG_PATH}/jump-nsg/defaultSecurityRules?${API}`),
    );
  });

  test("operation status and error bodies", async () => {
    const put = await http("PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-op?${API}`, ruleBody(140));
    const status = await call(emu.endpoint, emu.caPem, "GET", String(put.headers["azure-asyncoperation"]));
    expect(status.status).toBe(200);
    expectValid("network.json:AzureAsyncOperationResult", status);
    const errors = await Promise.all([
      http("GET", `${NSG_PATH}/absent?${API}`),
      http("PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-bad?${API}`, ruleBody(300)),
      http("PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-bad?${API}`, ruleBody(50)),
      call(emu.endpoint, emu.caPem, "GET", `${NSG_PATH}/jump-nsg?${API}`, { token: null }),
      http("GET", `${NSG_PATH}/jump-nsg`),
    ]);
    expect(errors.map((e) => e.status)).toEqual([404, 400, 400, 401, 400]);
    for (const e of errors) expectValid("network.json:CloudError", e);
  });
});

const str = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

interface Example {
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown }>;
}

/** Rewrites the example's resource groups into one per example, so examples do not collide. */
function rehome(value: unknown, tag: string): unknown {
  return JSON.parse(
    JSON.stringify(value).replace(/\/resourceGroups\/([^/"]+)/gi, `/resourceGroups/${tag}-$1`),
  ) as unknown;
}

function examplesFor(prefix: RegExp): [string, Example][] {
  const dir = join(networkDir(), "examples");
  return readdirSync(dir)
    .filter((f) => prefix.test(f))
    .map((f) => [f, JSON.parse(readFileSync(join(dir, f), "utf8")) as Example]);
}

function pathFor(p: Record<string, unknown>, tag: string): string {
  const sub = `/subscriptions/${str(p["subscriptionId"])}`;
  if (p["resourceGroupName"] === undefined) return `${sub}/providers/Microsoft.Network/networkSecurityGroups`;
  const rg = `${sub}/resourceGroups/${tag}-${str(p["resourceGroupName"])}/providers/Microsoft.Network/networkSecurityGroups`;
  if (p["networkSecurityGroupName"] === undefined) return rg;
  const nsg = `${rg}/${str(p["networkSecurityGroupName"])}`;
  if (p["securityRuleName"] !== undefined) return `${nsg}/securityRules/${str(p["securityRuleName"])}`;
  return p["parameters"] === undefined && /List/.test(tag) ? `${nsg}/securityRules` : nsg;
}

/** Seeds what a read example needs: the NSGs (and rules) of its official answer. */
function seedFromAnswer(name: string, body: unknown, p: Record<string, unknown>, tag: string): void {
  const rg = `/subscriptions/${str(p["subscriptionId"])}/resourceGroups/${tag}-${str(p["resourceGroupName"] ?? "rg1")}`;
  const nsgId = `${rg}/providers/Microsoft.Network/networkSecurityGroups/${str(p["networkSecurityGroupName"] ?? "testnsg")}`;
  const docs: unknown[] = [{ id: rg, type: "Microsoft.Resources/resourceGroups" }];
  const b = rehome(body, tag) as { value?: unknown[]; id?: string; name?: string; properties?: unknown };
  if (/^NetworkSecurityGroup(Get|List|ListAll)\.json$/.test(name)) docs.push(...(b.value ?? [b]));
  if (/^NetworkSecurityGroupRule(Get|List|Create)\.json$/.test(name)) {
    const rules = /Create/.test(name) ? [] : (b.value ?? [b]);
    docs.push({
      id: nsgId,
      type: "Microsoft.Network/networkSecurityGroups",
      location: "westus",
      properties: { securityRules: rules },
    });
  }
  emu.addResources(
    docs.map((d) => ({
      type: "Microsoft.Network/networkSecurityGroups",
      location: "westus",
      ...(d as object),
    })),
  );
}

describe("official x-ms-examples", () => {
  const examples = examplesFor(/^(NetworkSecurityGroup|SecurityRule)/);

  test("the shared specs hold the NSG and rule examples", () => {
    expect(examples.map(([f]) => f).sort()).toEqual(
      expect.arrayContaining([
        "NetworkSecurityGroupCreate.json",
        "NetworkSecurityGroupGet.json",
        "NetworkSecurityGroupRuleCreate.json",
      ]),
    );
  });

  test.each(examples)("%s is accepted and answered in the example's shape", async (name, ex) => {
    const tag = `ex-${name.replace(/\.json$/, "")}`;
    const p = ex.parameters;
    const okStatus = Object.keys(ex.responses).find((s) => s.startsWith("2")) ?? "200";
    seedFromAnswer(name, ex.responses[okStatus]?.body, p, tag);
    const body = p["parameters"] ?? p["securityRuleParameters"];
    const method = body === undefined ? "GET" : "PUT";
    const answer = await http(method, `${pathFor(p, tag)}?api-version=${str(p["api-version"])}`, body);
    const expected = ex.responses[String(answer.status)];
    expect({ name, status: answer.status, known: expected !== undefined }).toEqual({
      name,
      status: answer.status,
      known: true,
    });
    expect(missingShape(expected?.body, answer.body)).toEqual([]);
  });
});
