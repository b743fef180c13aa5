// ARM front-door behaviour: authentication, api-version, scope and unknown routes.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { startEmulator, type RunningEmulator } from "../../../src/emulator/index.ts";
import { API, call, NSG_PATH, RG_PATH, SEED_FILE, SUB } from "./support.ts";

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ seedFile: SEED_FILE, throttle: false });
});

afterAll(async () => {
  await emu.close();
});

const errorCode = (body: unknown): string | undefined => (body as { error?: { code?: string } }).error?.code;

describe("authentication", () => {
  test("no Authorization header: 401 AuthenticationFailed with a WWW-Authenticate challenge", async () => {
    const a = await call(emu.endpoint, emu.caPem, "GET", `${NSG_PATH}/jump-nsg?${API}`, { token: null });
    expect(a.status).toBe(401);
    expect(errorCode(a.body)).toBe("AuthenticationFailed");
    expect(a.headers["www-authenticate"]).toMatch(/^Bearer /);
  });

  test("a non-bearer Authorization header: 401 InvalidAuthenticationToken", async () => {
    const a = await call(emu.endpoint, emu.caPem, "GET", `${NSG_PATH}/jump-nsg?${API}`, {
      token: null,
      headers: { Authorization: "Basic abc" },
    });
    expect(a.status).toBe(401);
    expect(errorCode(a.body)).toBe("InvalidAuthenticationToken");
  });

  test("requireToken: false accepts anonymous requests", async () => {
    const open = await startEmulator({ seedFile: SEED_FILE, requireToken: false });
    try {
      const a = await call(open.endpoint, open.caPem, "GET", `${NSG_PATH}/jump-nsg?${API}`, { token: null });
      expect(a.status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe("api-version and routing", () => {
  test("missing api-version: 400 MissingApiVersionParameter", async () => {
    const a = await call(emu.endpoint, emu.caPem, "GET", `${NSG_PATH}/jump-nsg`);
    expect(a.status).toBe(400);
    expect(errorCode(a.body)).toBe("MissingApiVersionParameter");
  });

  test("malformed api-version: 400 InvalidApiVersionParameter", async () => {
    const a = await call(emu.endpoint, emu.caPem, "GET", `${NSG_PATH}/jump-nsg?api-version=latest`);
    expect(a.status).toBe(400);
    expect(errorCode(a.body)).toBe("InvalidApiVersionParameter");
  });

  test.each([
    [`${NSG_PATH}/absent`, 404, "ResourceNotFound"],
    [`${NSG_PATH}/jump-nsg/securityRules/absent`, 404, "NotFound"],
    [
      `/subscriptions/${SUB}/resourceGroups/nope/providers/Microsoft.Network/networkSecurityGroups/x`,
      404,
      "ResourceGroupNotFound",
    ],
    [
      `/subscriptions/99999999-0000-0000-0000-000000000000/providers/Microsoft.Network/networkSecurityGroups`,
      404,
      "SubscriptionNotFound",
    ],
    [`${RG_PATH}/providers/Microsoft.Network/loadBalancers/lb`, 404, "InvalidResourceType"],
    [`${RG_PATH}/providers/Microsoft.Compute/virtualMachines/absent`, 404, "ResourceNotFound"],
    [`${RG_PATH}/providers/Microsoft.Network/virtualNetworks/demo-vnet/subnets/absent`, 404, "NotFound"],
    [`/providers/Microsoft.Network/operations`, 404, "NotFound"],
  ])("GET %s answers %i %s", async (path, status, code) => {
    const a = await call(emu.endpoint, emu.caPem, "GET", `${path}?${API}`);
    expect(a.status).toBe(status);
    expect(errorCode(a.body)).toBe(code);
  });

  test("ids are case-insensitive and answers keep the stored casing", async () => {
    const a = await call(emu.endpoint, emu.caPem, "GET", `${NSG_PATH.toUpperCase()}/JUMP-NSG?${API}`);
    expect(a.status).toBe(200);
    expect((a.body as { id: string }).id).toBe(`${NSG_PATH}/jump-nsg`);
  });

  test("a malformed percent-encoding in the path: 400 InvalidRequestUri", async () => {
    const a = await call(emu.endpoint, emu.caPem, "GET", `${NSG_PATH}/bad%E0%A4%A?${API}`);
    expect(a.status).toBe(400);
    expect(errorCode(a.body)).toBe("InvalidRequestUri");
  });

  test("an unsupported method on a known route: 405", async () => {
    const a = await call(emu.endpoint, emu.caPem, "POST", `${NSG_PATH}/jump-nsg?${API}`);
    expect(a.status).toBe(405);
  });

  test("every ARM answer carries request ids and the remaining-requests headers", async () => {
    const a = await call(emu.endpoint, emu.caPem, "GET", `${NSG_PATH}/jump-nsg?${API}`);
    expect(a.headers["x-ms-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(a.headers["x-ms-ratelimit-remaining-subscription-reads"])).toBeGreaterThan(0);
    expect(Number(a.headers["x-ms-ratelimit-remaining-subscription-writes"])).toBeGreaterThan(0);
  });
});
