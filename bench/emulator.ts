// The ARM emulator in its own process (as the operator would see Azure), driven only through its
// admin endpoints under /_emulator/: counters, latency, resources and NSG documents.
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { ROOT, spawnNode, waitForLine } from "./procs.ts";
import type { Child, Reaper } from "./procs.ts";

export interface EmulatorStats {
  reads: number;
  writes: number;
  throttled: number;
  throttledReads: number;
  throttledWrites: number;
  byOperation: Record<string, number>;
}

export interface NsgRuleDoc {
  name: string;
  properties: {
    access: string;
    sourceAddressPrefix?: string;
    sourceAddressPrefixes?: string[];
  };
}

export interface EmulatorProcess {
  endpoint: string;
  caFile: string;
  child: Child;
  admin: AdminClient;
}

export class AdminClient {
  readonly #base: URL;
  readonly #agent: Agent;

  constructor(endpoint: string, caPem: string) {
    this.#base = new URL(endpoint);
    this.#agent = new Agent({ ca: caPem, keepAlive: true, maxSockets: 8 });
  }

  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const url = new URL(path, this.#base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.#agent,
          headers: payload === undefined ? {} : { "content-type": "application/json" },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, body: text === "" ? undefined : JSON.parse(text) });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  async ok(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.call(method, path, body);
    if (r.status >= 300) throw new Error(`emulator ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async stats(): Promise<EmulatorStats> {
    return (await this.ok("GET", "/_emulator/stats")) as EmulatorStats;
  }

  async resetStats(): Promise<void> {
    await this.ok("POST", "/_emulator/stats/reset");
  }

  async setWriteLatency(ms: number): Promise<void> {
    await this.ok("POST", "/_emulator/latency", { read: 0, write: ms });
  }

  async addResources(docs: unknown[]): Promise<void> {
    await this.ok("POST", "/_emulator/resources", docs);
  }

  /** The NSG's custom security rules, or undefined when it does not exist. */
  async rules(nsgId: string): Promise<NsgRuleDoc[] | undefined> {
    const r = await this.call("GET", `/_emulator/nsg?id=${encodeURIComponent(nsgId)}`);
    if (r.status === 404) return undefined;
    if (r.status >= 300) throw new Error(`emulator nsg ${nsgId}: ${r.status}`);
    const doc = r.body as { properties?: { securityRules?: NsgRuleDoc[] } };
    return doc.properties?.securityRules ?? [];
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Sources of the managed Allow rules of an NSG (what grants are open). */
export function allowedSources(rules: NsgRuleDoc[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) {
    if (!r.name.startsWith("drawbridge-") || r.properties.access !== "Allow") continue;
    const p = r.properties;
    for (const s of p.sourceAddressPrefixes ?? []) out.add(s);
    if (p.sourceAddressPrefix !== undefined) out.add(p.sourceAddressPrefix);
  }
  return out;
}

export function hasManagedDeny(rules: NsgRuleDoc[]): boolean {
  return rules.some((r) => r.name.startsWith("drawbridge-") && r.properties.access === "Deny");
}

/** `drawbridge emulator` as a child process, seeded with the example estate, Azure's throttle on. */
export async function startEmulatorProcess(reaper: Reaper): Promise<EmulatorProcess> {
  const child = spawnNode("emulator", [
    join(ROOT, "bin", "drawbridge.js"),
    "emulator",
    "--listen",
    "127.0.0.1:0",
    "--seed",
    join(ROOT, "examples", "seed.yaml"),
  ]);
  reaper.add("emulator", () => child.stop());
  // ARM_CA_FILE is printed after ARM_ENDPOINT: wait for it, then read both from the output.
  const caFile = (await waitForLine(child, /^ARM_CA_FILE=(\S+)/, 60_000))[1] ?? "";
  const endpoint = /^ARM_ENDPOINT=(\S+)/m.exec(child.output.text())?.[1] ?? "";
  const admin = new AdminClient(endpoint, readFileSync(caFile, "utf8"));
  reaper.add("emulator-admin", () => {
    admin.close();
    return Promise.resolve();
  });
  await admin.ok("GET", "/_emulator/health");
  return { endpoint, caFile, child, admin };
}
