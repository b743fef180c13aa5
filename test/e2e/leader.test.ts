// Two replicas with leader election through a Lease: one reconciles, the other waits; on SIGTERM the
// leader releases the Lease and the standby takes over. Also the metrics and health endpoints.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { ALL_NSGS, Stack, eventually } from "./harness.ts";
import type { Operator } from "./harness.ts";

let stack: Stack;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => {
        resolve(port);
      });
    });
  });
}

async function replica(identity: string): Promise<{ op: Operator; metrics: number; health: number }> {
  const metrics = await freePort();
  const health = await freePort();
  const op = stack.startOperator({
    extraArgs: [
      "--leader-elect=true",
      `--leader-election-namespace=${stack.ns}`,
      "--leader-election-id=drawbridge-e2e",
      "--lease-duration=6s",
      "--renew-deadline=4s",
      "--retry-period=1s",
      "--request-retention=8s",
      `--identity=${identity}`,
      `--metrics-bind-address=127.0.0.1:${metrics}`,
      `--health-probe-bind-address=127.0.0.1:${health}`,
    ],
  });
  return { op, metrics, health };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

beforeAll(async () => {
  stack = await Stack.start("op-leader");
  await stack.applyPolicy();
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

describe("leader election", () => {
  it("runs reconcilers only in the leader and fails over on SIGTERM", async () => {
    const a = await replica("replica-a");
    await a.op.waitForLog("leading: starting reconcilers", 120_000);
    await eventually("baseline", () => ALL_NSGS.every((id) => stack.managed(id).length > 0), 30_000);
    const b = await replica("replica-b");
    await b.op.waitForLog("waiting for leadership", 120_000);
    const first = await stack.createRequest({ sourceAddressPrefix: "203.0.113.70/32" });
    await eventually("first Active", async () => (await stack.phaseOf(first)) === "Active", 90_000);
    expect(b.op.logs()).not.toContain("leading: starting reconcilers");
    expect((await get(b.health, "/readyz")).status).toBe(200);
    const metrics = await get(a.metrics, "/metrics");
    expect(metrics.body).toMatch(/drawbridge_grant_latency_seconds_count 1\b/);
    expect(metrics.body).toMatch(
      /controller_runtime_reconcile_total\{controller="nsg",result="[a-z_]+"\} [1-9]/,
    );
    expect(metrics.body).toMatch(/leader_election_master_status\{name="drawbridge-e2e"\} 1/);
    expect(await a.op.stop()).toEqual({ code: 0, signal: null });
    await b.op.waitForLog("leading: starting reconcilers", 30_000);
    const second = await stack.createRequest({ sourceAddressPrefix: "203.0.113.71/32" });
    await eventually("second Active", async () => (await stack.phaseOf(second)) === "Active");
    for (const id of ALL_NSGS) expect(stack.allowsFor(id, 22, "203.0.113.71/32")).toHaveLength(1);
  }, 300_000);

  it("deletes terminal requests after the retention period (8s here)", async () => {
    const denied = await stack.createRequest({ sourceAddressPrefix: "198.51.100.70/32" });
    const request = await eventually("Denied", async () => {
      const r = await stack.getRequest(denied);
      return r?.status?.["phase"] === "Denied" ? r : undefined;
    });
    // When the operator closed it (its Closed condition, to the second): the retention counts from
    // there, not from when this test happened to see it.
    const conditions = (request.status?.["conditions"] ?? []) as {
      type: string;
      lastTransitionTime?: string;
    }[];
    const closedAt = Date.parse(conditions.find((c) => c.type === "Closed")?.lastTransitionTime ?? "");
    expect(Number.isNaN(closedAt)).toBe(false);
    const gone = async (): Promise<boolean> => {
      const r = await stack.cluster.kubectl(["get", "accessrequest", denied, "-n", stack.ns, "-o", "name"]);
      return r.code !== 0 && /not ?found/i.test(r.stderr);
    };
    await eventually("deleted", gone, 60_000, 500);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(5_000);
  }, 120_000);
});
