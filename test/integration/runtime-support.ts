// Helpers for the runtime integration tests: polling, a TCP proxy that can cut the connection to
// the API server (to simulate network drops and an API-server outage), and a kubeconfig through it.
import { createServer, connect } from "node:net";
import type { Server, Socket, AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { eventually } from "../support/poll.ts";

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  await eventually(what, cond, timeoutMs, 50);
}

/** A TCP pass-through proxy to host:port that can be taken down (all connections cut) and back up. */
export class CuttableProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;

  constructor(target: URL) {
    this.#target = { host: target.hostname, port: Number(target.port || 443) };
  }

  get url(): string {
    return `https://127.0.0.1:${this.#port}`;
  }

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on("close", () => this.#sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => {
        resolve();
      });
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Cut every connection and refuse new ones until up() (which reuses the same port). */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
  }

  /** Cut current connections only (a network blip). */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }
}

/** A copy of `kc` whose current cluster points at `server`. */
export function kubeConfigVia(kc: KubeConfig, server: string): KubeConfig {
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.name === kc.getCurrentCluster()?.name ? { ...c, server } : c)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return out;
}
