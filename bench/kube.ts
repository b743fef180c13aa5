// A lean Kubernetes client for the benchmark: JSON over one keep-alive HTTPS agent with the admin
// client certificate (thousands of parallel creates without per-call client set-up), and a watch
// that timestamps each event on arrival.
import { KubeConfig } from "@kubernetes/client-node";
import { Agent, request } from "node:https";
import type { RequestOptions } from "node:https";
import { API_GROUP, API_VERSION } from "../src/api/types.ts";
import { BENCH_SUB } from "./estate.ts";

export interface KubeObject {
  metadata: { name?: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface WatchEvent {
  type: string;
  object: KubeObject;
  at: number;
}

export class KubeClient {
  readonly #server: URL;
  readonly #agent: Agent;

  private constructor(server: URL, agent: Agent) {
    this.#server = server;
    this.#agent = agent;
  }

  static async fromKubeconfig(path: string): Promise<KubeClient> {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const server = kc.getCurrentCluster()?.server;
    if (server === undefined) throw new Error(`${path}: no current cluster`);
    const agent = new Agent({ ca: opts.ca, cert: opts.cert, key: opts.key, keepAlive: true, maxSockets: 64 });
    return new KubeClient(new URL(server), agent);
  }

  close(): void {
    this.#agent.destroy();
  }

  /** One JSON call; rejects on HTTP errors with the API server's message. */
  call(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<KubeObject> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.#server),
        {
          method,
          agent: this.#agent,
          headers: payload === undefined ? {} : { "content-type": contentType },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            if ((res.statusCode ?? 0) >= 300) {
              reject(new Error(`${method} ${path}: ${res.statusCode ?? 0} ${text.slice(0, 500)}`));
              return;
            }
            resolve((text === "" ? {} : JSON.parse(text)) as KubeObject);
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /**
   * Streams watch events of `path` (a collection) from `resourceVersion`; returns a stop function.
   * The API server closes a watcher that falls behind a burst (a thousand creations at once): the
   * watch then resumes from the last resourceVersion it delivered, so no event is lost.
   */
  watch(path: string, resourceVersion: string, onEvent: (e: WatchEvent) => void): () => void {
    let rv = resourceVersion;
    let stopped = false;
    let req: ReturnType<typeof request> | undefined;
    const open = (): void => {
      if (stopped) return;
      // One resume per connection, however it ended ("end" and "error" can both fire).
      let resumed = false;
      const resume = (): void => {
        if (resumed || stopped) return;
        resumed = true;
        setTimeout(open, 100);
      };
      const sep = path.includes("?") ? "&" : "?";
      const url = new URL(
        `${path}${sep}watch=1&allowWatchBookmarks=false&resourceVersion=${rv}&timeoutSeconds=3600`,
        this.#server,
      );
      let partial = "";
      req = request(url, { method: "GET", agent: this.#agent }, (res) => {
        res.on("data", (c: Buffer) => {
          const at = Date.now();
          const lines = (partial + c.toString()).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) {
            if (line.trim() === "") continue;
            const e = JSON.parse(line) as { type: string; object: KubeObject };
            if (e.type !== "ERROR") rv = e.object.metadata.resourceVersion ?? rv;
            onEvent({ ...e, at });
          }
        });
        res.on("end", resume);
        res.on("error", () => undefined);
      });
      req.on("error", resume);
      req.end();
    };
    open();
    return () => {
      stopped = true;
      req?.destroy();
    };
  }
}

export function crPath(namespace: string, plural: string, name?: string): string {
  const base = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${plural}`;
  return name === undefined ? base : `${base}/${name}`;
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects on the first failure. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * A namespace for one scenario, with the JitScope a platform admin would apply first: it binds the
 * namespace to the benchmark's subscriptions (without a scope the operator opens nothing).
 */
export async function createNamespace(
  kube: KubeClient,
  name: string,
  subscriptions: string[] = [BENCH_SUB],
): Promise<void> {
  await kube.call("POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "drawbridge.dev/bench": "true" } },
  });
  await kube.call("POST", `/apis/${API_GROUP}/${API_VERSION}/jitscopes`, {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: "JitScope",
    metadata: { name, labels: { "drawbridge.dev/bench": "true" } },
    spec: {
      namespaces: { names: [name] },
      // Only the scenario's own subscription: the resync lists every subscription a scope names.
      azureScopes: subscriptions.map((sub) => `/subscriptions/${sub}`),
    },
  });
}
