// What the operator's Kubernetes client (src/kube/kube.ts over the pooled write connections) throws
// when a status write fails in each way, and whether maybeLanded (src/operator/request/
// unknown-outcome.ts, ADR 0021) reads it as a write that may have been applied: against a real TLS
// server that resets the connection after reading a request, answers with an error status, or
// never answers until the pool is dropped; and a port where nothing listens.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { createServer as createTcpServer } from "node:net";
import type { AddressInfo } from "node:net";
import { createKubeWriter } from "../../src/kube/kube.ts";
import { PooledWriteKubeConfig } from "../../src/kube/kube-config.ts";
import { maybeLanded } from "../../src/operator/request/unknown-outcome.ts";
import { eventually } from "../support/poll.ts";
import { startTlsTestServer } from "./tls-test-server.ts";
import type { TlsTestServer } from "./tls-test-server.ts";

// A guard well above the wait for the server to hold a request, for a loaded machine.
jest.setTimeout(30_000);

let server: TlsTestServer | undefined;
let caPem = "";
let port = 0;
/** How many "hang" requests the server has read in full (and left unanswered). */
let hanging = 0;

/** The HTTP status a request for this object name is answered with; "reset" and "hang" do not answer. */
function answer(name: string): number | "reset" | "hang" {
  if (name === "reset" || name === "hang") return name;
  const code = /^e(\d{3})$/.exec(name)?.[1];
  return code === undefined ? 200 : Number(code);
}

beforeAll(async () => {
  server = await startTlsTestServer("write-outcome-", (req, res) => {
    const name = (req.url ?? "").split("?")[0]?.split("/")[7] ?? "";
    req.resume();
    req.on("end", () => {
      const a = answer(name);
      if (a === "hang") {
        hanging += 1;
        return;
      }
      if (a === "reset") {
        req.socket.destroy();
        return;
      }
      res.writeHead(a, { "content-type": "application/json" });
      const body =
        a === 200
          ? { apiVersion: "jit.drawbridge.dev/v1alpha1", kind: "AccessRequest", metadata: { name } }
          : { kind: "Status", apiVersion: "v1", status: "Failure", code: a, reason: "Test" };
      res.end(JSON.stringify(body));
    });
  });
  port = server.port;
  caPem = server.caPem;
}, 30_000);

afterAll(async () => {
  await server?.close();
});

function pool(to = port): PooledWriteKubeConfig {
  const kc = new PooledWriteKubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: "c", server: `https://127.0.0.1:${String(to)}`, caData: Buffer.from(caPem).toString("base64") },
    ],
    users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

/** The error a status write of `name` fails with (undefined: it succeeded). */
async function statusWriteError(kc: PooledWriteKubeConfig, name: string): Promise<unknown> {
  try {
    await createKubeWriter(kc).patchStatus(
      "AccessRequest",
      { namespace: "team-a", name },
      { phase: "Active" },
    );
    return undefined;
  } catch (err) {
    return err;
  }
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) =>
    s.close(() => {
      resolve();
    }),
  );
  return p;
}

describe("status write outcomes as the client reports them", () => {
  it("a connection reset after the request was sent may have landed", async () => {
    const err = await statusWriteError(pool(), "reset");
    expect(err).toBeDefined();
    expect(maybeLanded(err)).toBe(true);
  });

  it("a write still unanswered when the pool is dropped may have landed", async () => {
    const kc = pool();
    const before = hanging;
    const pending = statusWriteError(kc, "hang");
    // Dropped once the server holds the whole request: it was sent, and no answer came.
    await eventually("the server to hold the request", () => hanging > before, 10_000, 10);
    kc.dropConnections(new Error("a watch connection broke"));
    const err = await pending;
    expect(err).toBeDefined();
    expect(maybeLanded(err)).toBe(true);
  });

  it("a 504 or a 500 may have landed", async () => {
    expect(maybeLanded(await statusWriteError(pool(), "e504"))).toBe(true);
    expect(maybeLanded(await statusWriteError(pool(), "e500"))).toBe(true);
  });

  it("a 409, 403 or 429 did not", async () => {
    for (const name of ["e409", "e403", "e429"]) {
      const err = await statusWriteError(pool(), name);
      expect(err).toBeDefined();
      expect(maybeLanded(err)).toBe(false);
    }
  });

  it("a connection refused did not", async () => {
    const err = await statusWriteError(pool(await closedPort()), "ok");
    expect(err).toBeDefined();
    expect(maybeLanded(err)).toBe(false);
  });

  it("getObject: the object read, or undefined once it is gone", async () => {
    const kube = createKubeWriter(pool());
    const read = await kube.getObject("AccessRequest", { namespace: "team-a", name: "alice" });
    expect(read?.metadata?.name).toBe("alice");
    expect(await kube.getObject("AccessRequest", { namespace: "team-a", name: "e404" })).toBeUndefined();
  });
});
