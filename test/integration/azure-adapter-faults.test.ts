// ARM faults against the adapter: throttling with Retry-After, 5xx, dropped connections, timeouts
// and a busy NSG are retried within bounds; when retries run out the caller gets the right kind.
// Faults are switched off from the onArmCall hook after the first failure, so every test is
// deterministic: exactly one failed attempt, then success.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { AzureAdapter, AzureAdapterOptions } from "../../src/azure/adapter.ts";
import { AzureError } from "../../src/azure/port.ts";
import type { SecurityRule } from "../../src/core/nsg.ts";
import { startEmulator, type FaultOptions, type RunningEmulator } from "../../src/emulator/index.ts";
import { recordingAdapter } from "./azure-adapter-support.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const NSGS = `/subscriptions/${SUB}/resourceGroups/demo-rg/providers/Microsoft.Network/networkSecurityGroups`;
const JUMP_NSG = `${NSGS}/jump-nsg`;

// Several tests wait out Retry-After or write latency for seconds: a guard well above that, for a
// loaded machine.
jest.setTimeout(30_000);

let emu: RunningEmulator;
const adapters: AzureAdapter[] = [];

type ArmCall = [op: string, status: number | "error"];

function armCall(op: string, status: number | "error"): ArmCall {
  return [op, status];
}

function adapter(extra: Partial<AzureAdapterOptions> = {}): { a: AzureAdapter; calls: ArmCall[] } {
  const made = recordingAdapter(emu, armCall, { pollIntervalMs: 20, retry: { baseDelayMs: 50 }, ...extra });
  adapters.push(made.a);
  return made;
}

/** Inject `faults` until the first failed attempt is seen, then heal. */
function faultOnce(faults: FaultOptions): Partial<AzureAdapterOptions> {
  emu.setFaults(faults);
  return {
    onArmCall: (_op, status) => {
      if (status === "error" || status >= 400) emu.setFaults({});
    },
  };
}

/** Resolves once the emulator has taken one more write than `before` (it then holds the NSG). */
async function writeArrived(before: number): Promise<void> {
  while (emu.stats().writes <= before) await new Promise((r) => setTimeout(r, 10));
}

function rule(name: string, priority: number): SecurityRule {
  return {
    name,
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: "203.0.113.7/32",
    sourcePortRange: "*",
    destinationAddressPrefix: "10.0.2.4",
    destinationPortRange: "22",
  };
}

beforeAll(async () => {
  emu = await startEmulator({ seedFile: "examples/seed.yaml" });
});

afterEach(() => {
  emu.setFaults({});
  emu.setLatency({});
});

afterAll(async () => {
  for (const a of adapters) a.close();
  await emu.close();
});

describe("retried faults", () => {
  it("waits out a 429 for its Retry-After, then succeeds", async () => {
    const { a, calls } = adapter(faultOnce({ rate429: 1 }));
    const started = Date.now();
    const nsg = await a.getNsg(JUMP_NSG);
    expect(nsg.securityRules.length).toBeGreaterThan(0);
    expect(calls).toEqual([
      ["GET networkSecurityGroups", 429],
      ["GET networkSecurityGroups", 200],
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950); // Retry-After: 1
  });

  it.each([
    ["500", { rate500: 1 }, 500],
    ["503", { rate503: 1 }, 503],
    ["a dropped connection", { rateDrop: 1 }, "error"],
  ] as const)("retries %s on a write and succeeds", async (_name, faults, firstStatus) => {
    const { a, calls } = adapter(faultOnce(faults));
    await a.putRule(JUMP_NSG, rule("drawbridge-fault", 150));
    expect(calls[0]).toEqual(["PUT securityRules", firstStatus]);
    expect(calls[1]).toEqual(["PUT securityRules", 201]);
    const nsg = await a.getNsg(JUMP_NSG);
    expect(nsg.securityRules.filter((r) => r.name === "drawbridge-fault")).toHaveLength(1);
    await a.deleteRule(JUMP_NSG, "drawbridge-fault");
  });

  it("times out a request that gets no answer and retries it", async () => {
    const { a, calls } = adapter({
      requestTimeoutMs: 300,
      ...faultOnce({ rateTimeout: 1, timeoutMs: 5000 }),
    });
    const nsg = await a.getNsg(JUMP_NSG);
    expect(nsg.etag).toBeDefined();
    expect(calls).toEqual([
      ["GET networkSecurityGroups", "error"],
      ["GET networkSecurityGroups", 200],
    ]);
  });

  it("retries a write that finds the NSG busy (AnotherOperationInProgress)", async () => {
    emu.setLatency({ write: 1_000 });
    const { a, calls } = adapter({ retry: { baseDelayMs: 200, maxRetries: 6 } });
    // The second write starts once the first holds the NSG, so it certainly finds it busy.
    const writes = emu.stats().writes;
    const first = a.putRule(JUMP_NSG, rule("drawbridge-c1", 161));
    await writeArrived(writes);
    await Promise.all([first, a.putRule(JUMP_NSG, rule("drawbridge-c2", 162))]);
    expect(calls.filter(([op, s]) => op === "PUT securityRules" && s === 409).length).toBeGreaterThanOrEqual(
      1,
    );
    const names = (await a.getNsg(JUMP_NSG)).securityRules.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["drawbridge-c1", "drawbridge-c2"]));
    emu.setLatency({});
    await a.deleteRule(JUMP_NSG, "drawbridge-c1");
    await a.deleteRule(JUMP_NSG, "drawbridge-c2");
  });
});

describe("fault storm", () => {
  it("converges under 20% 500s and dropped connections: every write lands exactly once", async () => {
    // Every tenth request answers 500 and every tenth drops its connection, at fixed places, set from
    // the hook after each answer (the requests run one at a time): the storm hits in every run.
    let storm = true;
    let requests = 0;
    const stormFaults = (): FaultOptions => {
      requests += 1;
      if (!storm) return {};
      if (requests % 10 === 3) return { rate500: 1 };
      if (requests % 10 === 7) return { rateDrop: 1 };
      return {};
    };
    emu.setFaults(stormFaults());
    const { a, calls } = adapter({
      maxRetries: 8,
      retry: { baseDelayMs: 10, maxDelayMs: 100 },
      onArmCall: () => {
        emu.setFaults(stormFaults());
      },
    });
    const names = Array.from({ length: 8 }, (_, i) => `drawbridge-storm-${i}`);
    for (const [i, n] of names.entries()) await a.putRule(JUMP_NSG, rule(n, 130 + i));
    for (const n of names.slice(0, 4)) await a.deleteRule(JUMP_NSG, n);
    storm = false;
    emu.setFaults({});
    const managed = (await a.getNsg(JUMP_NSG)).securityRules.filter((r) =>
      r.name.startsWith("drawbridge-storm-"),
    );
    expect(managed.map((r) => [r.name, r.priority])).toEqual(names.slice(4).map((n, i) => [n, 134 + i]));
    // The storm did hit: attempts failed both ways and were retried.
    expect(calls.filter(([, s]) => s === 500).length).toBeGreaterThan(0);
    expect(calls.filter(([, s]) => s === "error").length).toBeGreaterThan(0);
    for (const n of names.slice(4)) await a.deleteRule(JUMP_NSG, n);
  });
});

describe("exhausted retries", () => {
  it("surfaces persistent throttling as Throttled with retryAfterMs", async () => {
    emu.setFaults({ rate429: 1 });
    const { a, calls } = adapter({ maxRetries: 1 });
    const e = (await a.getNsg(JUMP_NSG).catch((x: unknown) => x)) as AzureError;
    expect(e).toBeInstanceOf(AzureError);
    expect(e.kind).toBe("Throttled");
    expect(e.retryAfterMs).toBe(1000);
    expect(e.code).toBe("SubscriptionRequestsThrottled");
    expect(calls).toHaveLength(2);
  });

  it("surfaces persistent 500s as Transient with the ARM code", async () => {
    emu.setFaults({ rate500: 1 });
    const { a, calls } = adapter({ maxRetries: 2 });
    const e = (await a.putRule(JUMP_NSG, rule("drawbridge-x", 170)).catch((x: unknown) => x)) as AzureError;
    expect(e.kind).toBe("Transient");
    expect(e.statusCode).toBe(500);
    expect(e.code).toBe("InternalServerError");
    expect(calls).toHaveLength(3);
  });

  it("surfaces dropped connections as Transient ConnectionFailed", async () => {
    emu.setFaults({ rateDrop: 1 });
    const { a } = adapter({ maxRetries: 1 });
    await expect(a.getNsg(JUMP_NSG)).rejects.toMatchObject({ kind: "Transient", code: "ConnectionFailed" });
  });

  it("surfaces a busy NSG as Conflict AnotherOperationInProgress", async () => {
    emu.setLatency({ write: 2_000 });
    const { a } = adapter({ maxRetries: 0 });
    // The second write starts once the first holds the NSG, so it certainly finds it busy.
    const writes = emu.stats().writes;
    const first = a.putRule(JUMP_NSG, rule("drawbridge-b1", 171));
    await writeArrived(writes);
    const results = await Promise.allSettled([first, a.putRule(JUMP_NSG, rule("drawbridge-b2", 172))]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatchObject({
      kind: "Conflict",
      code: "AnotherOperationInProgress",
      statusCode: 409,
    });
    emu.setLatency({});
    for (const n of ["drawbridge-b1", "drawbridge-b2"]) await a.deleteRule(JUMP_NSG, n);
  });

  it("waits no longer than maxRetryAfterMs in the adapter", async () => {
    // One read token, refilled in 100 s: the second read is told to come back in 100 s, which the
    // adapter must not wait out (a wait would also overrun this test's guard).
    const strict = await startEmulator({
      seedFile: "examples/seed.yaml",
      throttle: { readBurst: 1, readPerSec: 0.01, writeBurst: 100, writePerSec: 50 },
    });
    try {
      const { a, calls } = recordingAdapter(
        strict,
        (op, status): [string, number | "error"] => [op, status],
        {
          retry: { maxRetryAfterMs: 500 },
        },
      );
      adapters.push(a);
      await a.getNsg(JUMP_NSG);
      const started = Date.now();
      const e = (await a.getNsg(JUMP_NSG).catch((x: unknown) => x)) as AzureError;
      expect(e).toBeInstanceOf(AzureError);
      expect(e.kind).toBe("Throttled");
      // 100 s less the moments since the first read, in whole seconds.
      expect(e.retryAfterMs).toBeGreaterThan(90_000);
      expect(calls).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(50_000);
    } finally {
      await strict.close();
    }
  });
});

describe("rate limits", () => {
  const bucketNsgs = Array.from({ length: 6 }, (_, i) => `${NSGS}/bucket-${i}`);

  beforeAll(() => {
    emu.addResources(
      bucketNsgs.map((id) => ({
        id,
        name: id.split("/").at(-1),
        type: "Microsoft.Network/networkSecurityGroups",
        location: "westeurope",
        properties: { securityRules: [] },
      })),
    );
  });

  it("holds writes beyond the client-side burst, so ARM never throttles", async () => {
    const { a, calls } = adapter({ rateLimit: { writesPerSec: 5, writeBurst: 2 } });
    emu.resetStats();
    const started = Date.now();
    await Promise.all(bucketNsgs.map((id) => a.putRule(id, rule("drawbridge-rl", 190))));
    // Six concurrent writes, burst 2: four had to wait for a token, the last one 4/5 s.
    expect(a.stats().rateLimitedCalls).toBe(4);
    expect(calls.filter(([op]) => op === "PUT securityRules")).toHaveLength(6);
    expect(emu.stats().throttled).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);
    for (const id of bucketNsgs)
      expect((await a.getNsg(id)).securityRules.map((r) => r.name)).toEqual(["drawbridge-rl"]);
  });

  it("honours ARM's own 429 + Retry-After when the client-side limit is set too high", async () => {
    const strict = await startEmulator({
      seedFile: "examples/seed.yaml",
      // One write token, refilled in 2 s: far longer than the two concurrent PUTs take to arrive.
      throttle: { readBurst: 100, readPerSec: 50, writeBurst: 1, writePerSec: 0.5 },
    });
    try {
      const { a, calls } = recordingAdapter(strict, armCall, {
        pollIntervalMs: 20,
        rateLimit: { writesPerSec: 1000, writeBurst: 1000 },
      });
      adapters.push(a);
      await Promise.all([
        a.putRule(JUMP_NSG, rule("drawbridge-t1", 191)),
        a.putRule(`${NSGS}/web-1-nic-nsg`, rule("drawbridge-t2", 191)),
      ]);
      const statuses = calls.filter(([op]) => op === "PUT securityRules").map(([, status]) => status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
      expect(statuses.filter((s) => s === 201 || s === 200)).toHaveLength(2);
      expect(strict.stats().throttled).toBeGreaterThanOrEqual(1);
    } finally {
      await strict.close();
    }
  });
});
