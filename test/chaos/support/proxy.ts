// A TCP proxy between the operator and kube-apiserver (TLS passes through untouched: the serving
// certificate names 127.0.0.1, whatever the port). The test can cut every open connection (watches
// drop mid-stream) or refuse new ones for a while (the API server looks unreachable).
import { connect, createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";

export class CutProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #blocked = false;
  cuts = 0;
  port = 0;

  constructor(upstreamPort: number) {
    this.#server = createServer((client) => {
      if (this.#blocked) {
        client.destroy();
        return;
      }
      const upstream = connect(upstreamPort, "127.0.0.1");
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.#sockets.add(a);
        a.on("error", () => b.destroy());
        a.on("close", () => {
          this.#sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as AddressInfo).port;
    return `https://127.0.0.1:${String(this.port)}`;
  }

  /** Destroys every proxied connection (both ends): every watch and request in flight drops. */
  cut(): void {
    this.cuts += 1;
    for (const s of this.#sockets) s.destroy();
  }

  /** While blocked, new connections are refused (closed at once) and open ones are cut. */
  block(on: boolean): void {
    this.#blocked = on;
    if (on) this.cut();
  }

  async close(): Promise<void> {
    this.block(true);
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }
}
