// Throttling, fault injection, the foreign writer and the admin surface.
import { afterEach, describe, expect, test } from "@jest/globals";
import { startEmulator, type RunningEmulator } from "../../../src/emulator/index.ts";
import { eventually } from "../../support/poll.ts";
import { API, call, manyNsgs, NSG_PATH, ruleBody, SEED_FILE, type HttpAnswer } from "./support.ts";

let emu: RunningEmulator | undefined;

afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function start(opts: Parameters<typeof startEmulator>[0] = {}): Promise<RunningEmulator> {
  emu = await startEmulator({ seedFile: SEED_FILE, ...opts });
  return emu;
}

const get = (e: RunningEmulator, path: string, token: string | null = "t"): Promise<HttpAnswer> =>
  call(e.endpoint, e.caPem, "GET", path, { token });
const code = (a: HttpAnswer): string | undefined => (a.body as { error?: { code?: string } }).error?.code;

describe("throttling", () => {
  test("an empty read bucket answers 429 SubscriptionRequestsThrottled with Retry-After", async () => {
    const e = await start({ throttle: { readBurst: 3, readPerSec: 0.5, writeBurst: 2, writePerSec: 0.5 } });
    const answers: HttpAnswer[] = [];
    for (let i = 0; i < 4; i++) answers.push(await get(e, `${NSG_PATH}/jump-nsg?${API}`));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers["x-ms-ratelimit-remaining-subscription-reads"])).toEqual([
      "2",
      "1",
      "0",
      "0",
    ]);
    const throttled = answers[3]!;
    expect(code(throttled)).toBe("SubscriptionRequestsThrottled");
    expect(Number(throttled.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(e.stats()).toMatchObject({ throttled: 1, throttledReads: 1, throttledWrites: 0 });
  });

  test("writes have their own bucket", async () => {
    const e = await start({ throttle: { readBurst: 100, readPerSec: 100, writeBurst: 2, writePerSec: 0.5 } });
    const put = (n: number): Promise<HttpAnswer> =>
      call(e.endpoint, e.caPem, "PUT", `${NSG_PATH}/jump-nsg/securityRules/drawbridge-t${n}?${API}`, {
        body: ruleBody(100 + n),
      });
    expect([(await put(1)).status, (await put(2)).status, (await put(3)).status]).toEqual([201, 201, 429]);
    expect((await get(e, `${NSG_PATH}/jump-nsg?${API}`)).status).toBe(200);
    expect(e.stats()).toMatchObject({ throttled: 1, throttledReads: 0, throttledWrites: 1 });
  });
});

describe("fault injection", () => {
  test("rate 1 of 500 / 503 / 429 answers those errors; 0 restores normal answers", async () => {
    const e = await start({ throttle: false });
    e.setFaults({ rate500: 1 });
    expect((await get(e, `${NSG_PATH}/jump-nsg?${API}`)).status).toBe(500);
    e.setFaults({ rate503: 1 });
    const unavailable = await get(e, `${NSG_PATH}/jump-nsg?${API}`);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers["retry-after"]).toBe("1");
    e.setFaults({ rate429: 1 });
    expect((await get(e, `${NSG_PATH}/jump-nsg?${API}`)).status).toBe(429);
    e.setFaults({});
    expect((await get(e, `${NSG_PATH}/jump-nsg?${API}`)).status).toBe(200);
  });

  test("dropped connections and timeouts close the socket without an answer", async () => {
    const e = await start({ throttle: false, faults: { rateDrop: 1 } });
    await expect(get(e, `${NSG_PATH}/jump-nsg?${API}`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    e.setFaults({ rateTimeout: 1, timeoutMs: 300 });
    const started = Date.now();
    await expect(get(e, `${NSG_PATH}/jump-nsg?${API}`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  test("the foreign writer edits only foreign-writer-* rules at 2000..2999, serialized with other writers", async () => {
    const e = await start({ throttle: false });
    const id = `${NSG_PATH}/jump-nsg`;
    const before = e.getNsgDocument(id) as { properties: { securityRules: { name: string }[] } };
    const original = before.properties.securityRules;
    e.setFaults({ foreignWriterIntervalMs: 20, foreignWriterNsgIds: [id] });
    // Several edits (adds, updates, removes), however slowly the interval fires on a loaded machine.
    const edits = async (): Promise<number> =>
      ((await get(e, "/_emulator/stats", null)).body as { foreignWriterEdits: number }).foreignWriterEdits;
    await eventually("foreign edits", async () => (await edits()) >= 10, 30_000, 20);
    e.setFaults({});
    const after = e.getNsgDocument(id) as {
      properties: { securityRules: { name: string; properties: { priority: number } }[] };
    };
    const foreign = after.properties.securityRules.filter((r) => r.name.startsWith("foreign-writer-"));
    const others = after.properties.securityRules.filter((r) => !r.name.startsWith("foreign-writer-"));
    expect(others).toEqual(original.map((r) => expect.objectContaining({ name: r.name })));
    for (const r of foreign) expect(r.properties.priority).toBeGreaterThanOrEqual(2000);
    for (const r of foreign) expect(r.properties.priority).toBeLessThanOrEqual(2999);
    expect(await edits()).toBeGreaterThanOrEqual(10);
  }, 60_000);

  test("foreignWriterRaces: the next N conditional NSG PUTs to a listed NSG each find a foreign edit first (412)", async () => {
    const e = await start({ throttle: false, recordWrites: true });
    const id = `${NSG_PATH}/jump-nsg`;
    const other = `${NSG_PATH}/web-subnet-nsg`;
    e.setFaults({ foreignWriterRaces: 2, foreignWriterNsgIds: [id] });
    const etagOf = async (path: string): Promise<string> =>
      ((await get(e, `${path}?${API}`)).body as { etag: string }).etag;
    const put = (path: string, etag: string | undefined): Promise<HttpAnswer> =>
      call(e.endpoint, e.caPem, "PUT", `${path}?${API}`, {
        body: { location: "westeurope", properties: { securityRules: [{ name: "only", ...ruleBody(200) }] } },
        ...(etag === undefined ? {} : { headers: { "If-Match": etag } }),
      });
    // An unconditional PUT and a PUT to an NSG not listed are not raced.
    expect((await put(other, await etagOf(other))).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await put(id, await etagOf(id));
      statuses.push(answer.status);
      if (answer.status === 412) expect(code(answer)).toBe("PreconditionFailed");
    }
    expect(statuses).toEqual([412, 412, 200]);
    const rules = (e.getNsgDocument(id) as { properties: { securityRules: { name: string }[] } }).properties
      .securityRules;
    expect(rules.map((r) => r.name)).toEqual(["only"]);
    expect(
      e
        .writeLog()
        .filter((w) => w.nsgId === id)
        .map((w) => w.actor),
    ).toEqual(["foreign-writer", "foreign-writer", "api"]);
    expect(e.stats().faults).toEqual({ race: 2 });
  });

  test("a foreign write in flight makes a concurrent writer wait its turn (409)", async () => {
    // The foreign write holds the NSG for 5 s, far longer than the PUT below takes to arrive.
    const e = await start({ throttle: false, latencyMs: { write: 5_000 } });
    const id = `${NSG_PATH}/jump-nsg`;
    e.setFaults({ foreignWriterIntervalMs: 50, foreignWriterNsgIds: [id] });
    // Timers fire in order: by the end of this wait the first tick (50 ms) holds the NSG.
    await new Promise((r) => setTimeout(r, 150));
    e.setFaults({});
    const a = await call(e.endpoint, e.caPem, "PUT", `${id}/securityRules/drawbridge-f?${API}`, {
      body: ruleBody(100),
    });
    expect(a.status).toBe(409);
    expect(code(a)).toBe("AnotherOperationInProgress");
  });
});

describe("admin surface", () => {
  test("health, stats, reset, faults, latency, resources and nsg over HTTP without a token", async () => {
    const e = await start({ throttle: false });
    const admin = (method: string, path: string, body?: unknown): Promise<HttpAnswer> =>
      call(e.endpoint, e.caPem, method, `/_emulator/${path}`, {
        token: null,
        ...(body === undefined ? {} : { body }),
      });
    expect((await admin("GET", "health")).body).toEqual({ status: "ok", nsgs: 3 });
    await get(e, `${NSG_PATH}/jump-nsg?${API}`);
    const stats = (await admin("GET", "stats")).body as {
      reads: number;
      byOperation: Record<string, number>;
    };
    expect(stats.reads).toBe(1);
    expect(stats.byOperation).toEqual({ NetworkSecurityGroups_Get: 1 });
    expect((await admin("POST", "stats/reset")).status).toBe(204);
    expect(((await admin("GET", "stats")).body as { reads: number }).reads).toBe(0);
    expect((await admin("POST", "faults", { rate500: 1 })).status).toBe(200);
    expect((await get(e, `${NSG_PATH}/jump-nsg?${API}`)).status).toBe(500);
    expect((await admin("POST", "faults", { rate500: 2 })).status).toBe(400);
    await admin("POST", "faults", {});
    expect((await admin("POST", "latency", { read: 200 })).body).toEqual({ read: 200 });
    const started = Date.now();
    await get(e, `${NSG_PATH}/jump-nsg?${API}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await admin("POST", "latency", {});
    expect((await admin("POST", "resources", manyNsgs(250, "admin"))).body).toEqual({ added: 250 });
    expect(((await admin("GET", "health")).body as { nsgs: number }).nsgs).toBe(253);
    const bad = await admin("POST", "resources", [
      {
        id: `${NSG_PATH}/x`,
        type: "Microsoft.Network/networkSecurityGroups",
        properties: { securityRules: [{ name: "r", properties: { priority: 5 } }] },
      },
    ]);
    expect(bad.status).toBe(400);
    expect(((await admin("GET", "health")).body as { nsgs: number }).nsgs).toBe(253);
    const nsg = await admin("GET", `nsg?id=${encodeURIComponent(`${NSG_PATH}/admin-7`)}`);
    expect((nsg.body as { name: string }).name).toBe("admin-7");
  });
});
