// A KubeConfig for the operator's writes (status, finalizer and Event calls) whose requests share one
// keep-alive connection pool per cluster/user. @kubernetes/client-node 2.0 builds a new undici Agent for
// every request, so each write would open a new TCP + TLS connection with a client certificate and
// hold approvals to a few dozen a second. A pooled connection can go half-dead (a cut that the client
// never sees): the pool's requests therefore time out (headers and body, WRITE_TIMEOUT_MS) instead
// of waiting forever, which frees the connection and lets the work queue retry; and when a watch
// connection breaks, the operator drops the pool at once (dropConnections) rather than wait for that.
// Lists and watches do not use this: each keeps its own connection, so a cut ends the watch at once
// (docs/reliability.md).
import { KubeConfig } from "@kubernetes/client-node";
import type { AgentOptions } from "node:https";
import { Agent } from "undici";

type RequestContext = Parameters<KubeConfig["applySecurityAuthentication"]>[0];

/** Longest a pooled write may wait for response headers, or between body chunks. */
export const WRITE_TIMEOUT_MS = 15_000;

export class PooledWriteKubeConfig extends KubeConfig {
  // Keyed by cluster (name and server) and user name: the agent carries that pair's TLS material.
  private readonly agents = new Map<string, Agent>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    // No dispatcher means plain fetch defaults (no TLS material): nothing to pool.
    if (context.getDispatcher() === undefined) return;
    const key = this.poolKey();
    let agent = this.agents.get(key);
    if (agent === undefined) {
      const tlsOptions: AgentOptions = {};
      await this.applyToHTTPSOptions(tlsOptions);
      const o = this.createDispatcherOptions(this.getCurrentCluster(), tlsOptions);
      // Proxied clusters keep the library's own dispatcher.
      if (o.type !== "agent") return;
      agent = new Agent({
        connect: o.connect,
        headersTimeout: WRITE_TIMEOUT_MS,
        bodyTimeout: WRITE_TIMEOUT_MS,
      });
      this.agents.set(key, agent);
    }
    context.setDispatcher(agent);
  }

  /**
   * Fails every pooled write in flight and closes the pool's connections; the next write opens a
   * new one. For when the path to the API server is known to have broken (a watch connection ended
   * with a network error): a write waiting on a connection the break left half-dead would otherwise
   * hold its work-queue slot until WRITE_TIMEOUT_MS. A write failed here is retried by the queue, as
   * after a timeout.
   */
  dropConnections(reason: Error): void {
    const agents = [...this.agents.values()];
    this.agents.clear();
    for (const agent of agents) {
      agent.destroy(reason).catch(() => undefined);
    }
  }

  private poolKey(): string {
    const cluster = this.getCurrentCluster();
    return JSON.stringify([cluster?.name ?? "", cluster?.server ?? "", this.getCurrentUser()?.name ?? ""]);
  }
}
