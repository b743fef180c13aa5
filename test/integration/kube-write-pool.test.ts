// The operator's pooled write connections (src/kube/kube-config.ts) against a real TLS server that
// accepts a request and never answers, as a connection a network break left half-dead does: a
// write waits there until WRITE_TIMEOUT_MS, unless the pool is dropped, which fails it at once and
// hands the next write a fresh connection.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { HttpMethod, RequestContext } from "@kubernetes/client-node";
import { request } from "undici";
import type { Dispatcher } from "undici";
import { PooledWriteKubeConfig, WRITE_TIMEOUT_MS } from "../../src/kube/kube-config.ts";
import { eventually } from "../support/poll.ts";
import { startTlsTestServer } from "./tls-test-server.ts";
import type { TlsTestServer } from "./tls-test-server.ts";

// A guard well above the wait for the server to hold a request, for a loaded machine.
jest.setTimeout(30_000);

let server: TlsTestServer | undefined;
let url = "";
let caPem = "";
/** How many "/hang" requests the server has received (and left unanswered). */
let hanging = 0;

beforeAll(async () => {
  // "/hang" is accepted and never answered; anything else answers at once.
  server = await startTlsTestServer("write-pool-", (req, res) => {
    if (req.url === "/hang") hanging += 1;
    else res.end("ok");
  });
  url = `https://127.0.0.1:${String(server.port)}`;
  caPem = server.caPem;
}, 30_000);

afterAll(async () => {
  await server?.close();
});

function pool(): PooledWriteKubeConfig {
  const kc = new PooledWriteKubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: url, caData: Buffer.from(caPem).toString("base64") }],
    users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

async function dispatcherOf(kc: PooledWriteKubeConfig): Promise<Dispatcher> {
  const ctx = new RequestContext(`${url}/`, HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  const d = ctx.getDispatcher();
  if (d === undefined) throw new Error("no pooled dispatcher");
  return d;
}

describe("pooled write connections", () => {
  it("dropping the pool fails a write that waits for an answer, and the next write gets a new connection", async () => {
    const kc = pool();
    const first = await dispatcherOf(kc);
    const before = hanging;
    const hung = request(`${url}/hang`, { dispatcher: first, method: "PUT", body: "{}" }).then(
      () => "answered",
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    // Dropped once the server holds the request: it was sent, and no answer came.
    await eventually("the server to hold the request", () => hanging > before, 10_000, 10);
    const began = Date.now();
    kc.dropConnections(new Error("a watch connection broke"));
    const outcome = await hung;
    const tookMs = Date.now() - began;
    expect(outcome).toBe("a watch connection broke");
    expect(tookMs).toBeLessThan(WRITE_TIMEOUT_MS / 3);
    const next = await dispatcherOf(kc);
    expect(next).not.toBe(first);
    const res = await request(`${url}/`, { dispatcher: next });
    expect(await res.body.text()).toBe("ok");
  });
});
