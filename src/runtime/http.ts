// The operator's HTTP endpoints: /metrics for Prometheus, and /healthz + /readyz for the kubelet.
// Readiness is 503 with a reason until the caches have synced, so a rollout does not route (or
// count as available) an operator that cannot reconcile yet. Metrics and probes may share a port.
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.ts";

/** A probe answers ok, or not ok with a human-readable reason that the endpoint returns. */
export type ProbeResult = boolean | { ok: boolean; reason?: string };
export type Probe = () => ProbeResult;

export interface HttpServersOptions {
  /** host:port or :port for /metrics; undefined disables. */
  metricsAddr: string | undefined;
  /** host:port or :port for /healthz and /readyz; undefined disables. */
  healthAddr: string | undefined;
  metrics: Metrics;
  readiness: Probe;
  liveness: Probe;
}

export interface HttpServers {
  /** Bound addresses ("127.0.0.1:43121"), useful when port 0 was requested. */
  metricsAddress: string | undefined;
  healthAddress: string | undefined;
  close(): Promise<void>;
}

/** Split "host:port" / ":port" into listen arguments; an empty host listens on all interfaces. */
export function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const i = addr.lastIndexOf(":");
  const rawHost = i < 0 ? "" : addr.slice(0, i);
  const port = Number(i < 0 ? addr : addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid listen address "${addr}"`);
  const host = rawHost.replace(/^\[(.*)\]$/, "$1");
  return { host: host === "" ? undefined : host, port };
}

function normalize(r: ProbeResult): { ok: boolean; reason: string } {
  if (typeof r === "boolean") return { ok: r, reason: r ? "ok" : "not ready" };
  return { ok: r.ok, reason: r.reason ?? (r.ok ? "ok" : "not ready") };
}

function answerProbe(res: ServerResponse, probe: Probe): void {
  let result: { ok: boolean; reason: string };
  try {
    result = normalize(probe());
  } catch (err) {
    result = { ok: false, reason: `probe failed: ${String(err)}` };
  }
  res.writeHead(result.ok ? 200 : 503, { "content-type": "text/plain; charset=utf-8" });
  res.end(`${result.ok ? "ok" : result.reason}\n`);
}

type Route = (req: IncomingMessage, res: ServerResponse) => void;

function metricsRoute(metrics: Metrics): Route {
  return (_req, res) => {
    metrics.render().then(
      (body) => {
        res.writeHead(200, { "content-type": metrics.contentType });
        res.end(body);
      },
      (err: unknown) => {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end(`metrics collection failed: ${String(err)}\n`);
      },
    );
  };
}

function handler(routes: Map<string, Route>): Route {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route = routes.get(path);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (route === undefined) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
    } else {
      route(req, res);
    }
  };
}

async function listen(
  addr: string,
  routes: Map<string, Route>,
): Promise<{ server: Server; address: string }> {
  const { host, port } = parseListenAddress(addr);
  const server = createServer(handler(routes));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const shown = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return { server, address: `${shown}:${a.port}` };
}

/** Start the metrics and probe servers (one server when both addresses are equal). */
export async function startHttpServers(opts: HttpServersOptions): Promise<HttpServers> {
  const metricsRoutes = new Map<string, Route>([["/metrics", metricsRoute(opts.metrics)]]);
  const healthRoutes = new Map<string, Route>([
    [
      "/healthz",
      (_q, r) => {
        answerProbe(r, opts.liveness);
      },
    ],
    [
      "/livez",
      (_q, r) => {
        answerProbe(r, opts.liveness);
      },
    ],
    [
      "/readyz",
      (_q, r) => {
        answerProbe(r, opts.readiness);
      },
    ],
  ]);
  const servers: Server[] = [];
  const out: HttpServers = {
    metricsAddress: undefined,
    healthAddress: undefined,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => {
                resolve();
              });
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
  try {
    // Port 0 means "any free port": two such addresses are two servers, not one shared one.
    const shared = opts.metricsAddr === opts.healthAddr ? opts.metricsAddr : undefined;
    if (shared !== undefined && parseListenAddress(shared).port !== 0) {
      const both = await listen(shared, new Map([...metricsRoutes, ...healthRoutes]));
      servers.push(both.server);
      out.metricsAddress = both.address;
      out.healthAddress = both.address;
      return out;
    }
    if (opts.metricsAddr !== undefined) {
      const m = await listen(opts.metricsAddr, metricsRoutes);
      servers.push(m.server);
      out.metricsAddress = m.address;
    }
    if (opts.healthAddr !== undefined) {
      const h = await listen(opts.healthAddr, healthRoutes);
      servers.push(h.server);
      out.healthAddress = h.address;
    }
  } catch (err) {
    await out.close();
    throw err;
  }
  return out;
}
