import { describe, expect, it } from "@jest/globals";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { startHttpServers, parseListenAddress } from "../../../src/runtime/http.ts";
import { Metrics } from "../../../src/runtime/metrics.ts";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) =>
    srv.close(() => {
      r();
    }),
  );
  return port;
}

describe("startHttpServers", () => {
  it("serves /metrics, /healthz and /readyz with a reason until ready", async () => {
    let ready = false;
    const servers = await startHttpServers({
      metricsAddr: "127.0.0.1:0",
      healthAddr: "127.0.0.1:0",
      metrics: new Metrics({ processMetrics: false }),
      readiness: () => (ready ? true : { ok: false, reason: "informers not synced: accessrequests" }),
      liveness: () => true,
    });
    try {
      const m = await fetch(`http://${servers.metricsAddress}/metrics`);
      expect(m.status).toBe(200);
      expect(await m.text()).toContain("controller_runtime_reconcile_total");
      const health = `http://${servers.healthAddress}`;
      expect((await fetch(`${health}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${health}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toContain("informers not synced: accessrequests");
      ready = true;
      expect((await fetch(`${health}/readyz`)).status).toBe(200);
      expect((await fetch(`${health}/metrics`)).status).toBe(404);
      expect((await fetch(`${health}/readyz`, { method: "POST" })).status).toBe(405);
    } finally {
      await servers.close();
    }
    await expect(fetch(`http://${servers.healthAddress}/healthz`)).rejects.toThrow();
  });

  it("serves everything on one port when both addresses are equal, and none when disabled", async () => {
    const probe = { metrics: new Metrics({ processMetrics: false }), readiness: () => true };
    const addr = `127.0.0.1:${await freePort()}`;
    const one = await startHttpServers({
      ...probe,
      metricsAddr: addr,
      healthAddr: addr,
      liveness: () => false,
    });
    try {
      expect(one.metricsAddress).toBe(one.healthAddress);
      expect((await fetch(`http://${addr}/metrics`)).status).toBe(200);
      expect((await fetch(`http://${addr}/healthz`)).status).toBe(503);
    } finally {
      await one.close();
    }
    const none = await startHttpServers({
      ...probe,
      metricsAddr: undefined,
      healthAddr: undefined,
      liveness: () => true,
    });
    expect(none.metricsAddress).toBeUndefined();
    await none.close();
    const failing = await startHttpServers({
      ...probe,
      metricsAddr: undefined,
      healthAddr: "127.0.0.1:0",
      liveness: () => {
        throw new Error("stuck");
      },
    });
    try {
      const r = await fetch(`http://${failing.healthAddress}/healthz`);
      expect(r.status).toBe(503);
      expect(await r.text()).toContain("stuck");
    } finally {
      await failing.close();
    }
  });

  it("parses listen addresses", () => {
    expect(parseListenAddress(":8080")).toEqual({ host: undefined, port: 8080 });
    expect(parseListenAddress("127.0.0.1:9")).toEqual({ host: "127.0.0.1", port: 9 });
    expect(parseListenAddress("[::1]:9")).toEqual({ host: "::1", port: 9 });
    expect(() => parseListenAddress("x:y")).toThrow(/invalid listen address/);
  });

  it("fails clearly when the port is taken", async () => {
    const a = await startHttpServers({
      metricsAddr: "127.0.0.1:0",
      healthAddr: undefined,
      metrics: new Metrics({ processMetrics: false }),
      readiness: () => true,
      liveness: () => true,
    });
    try {
      await expect(
        startHttpServers({
          metricsAddr: a.metricsAddress,
          healthAddr: undefined,
          metrics: new Metrics({ processMetrics: false }),
          readiness: () => true,
          liveness: () => true,
        }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await a.close();
    }
  });
});
