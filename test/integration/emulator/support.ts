// Shared helpers of the emulator tests: the estate from examples/seed.yaml, a static token
// credential, and a small HTTPS client that trusts the emulator's CA.
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { request } from "node:https";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
export const SEED_FILE = join(REPO_ROOT, "examples/seed.yaml");
export const SUB = "00000000-0000-0000-0000-000000000001";
export const RG = "demo-rg";
export const RG_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}`;
export const NSG_PATH = `${RG_PATH}/providers/Microsoft.Network/networkSecurityGroups`;
export const API = "api-version=2024-05-01";

export const staticToken: TokenCredential = {
  getToken: (): Promise<AccessToken> =>
    Promise.resolve({ token: "emulator-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

export function call(
  endpoint: string,
  ca: string,
  method: string,
  path: string,
  opts: { body?: unknown; rawBody?: string; headers?: Record<string, string>; token?: string | null } = {},
): Promise<HttpAnswer> {
  const url = new URL(path, endpoint);
  const data = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== null) headers["Authorization"] = `Bearer ${opts.token ?? "t"}`;
  if (data !== undefined) headers["Content-Type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = undefined;
        try {
          body = text === "" ? undefined : JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on("error", reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

export function ruleBody(
  priority: number,
  extra: Record<string, unknown> = {},
): { properties: Record<string, unknown> } {
  return {
    properties: {
      protocol: "Tcp",
      sourcePortRange: "*",
      destinationPortRange: "22",
      sourceAddressPrefix: "203.0.113.7/32",
      destinationAddressPrefix: "*",
      access: "Allow",
      priority,
      direction: "Inbound",
      ...extra,
    },
  };
}

export function manyNsgs(count: number, prefix = "bulk"): unknown[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${NSG_PATH}/${prefix}-${i}`,
    name: `${prefix}-${i}`,
    type: "Microsoft.Network/networkSecurityGroups",
    location: "westeurope",
    properties: { securityRules: [] },
  }));
}
