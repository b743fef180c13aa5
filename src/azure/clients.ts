// SDK clients per subscription, all sharing one HTTPS agent (keep-alive, optional extra CA) and
// one ARM policy (rate limit, timeout, retries, metrics). The SDK's own retries are off.
import { Agent } from "node:https";
import { createSecureContext, rootCertificates } from "node:tls";
import { ComputeManagementClient } from "@azure/arm-compute";
import { NetworkManagementClient } from "@azure/arm-network";
import type { TokenCredential } from "@azure/core-auth";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { isAzureCloudEndpoint } from "./credentials.ts";

export interface ArmClients {
  network: NetworkManagementClient;
  compute: ComputeManagementClient;
}

export interface ClientFactoryOptions {
  credential: TokenCredential;
  endpoint: string;
  caPem?: string | undefined;
  policy: PipelinePolicy;
}

export const DEFAULT_ARM_ENDPOINT = "https://management.azure.com";

/** Validate and normalise the ARM base URL (https only: tokens must never travel in clear text). */
export function normalizeEndpoint(endpoint: string | undefined): string {
  const raw = endpoint ?? DEFAULT_ARM_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RangeError(`endpoint must be an absolute https URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "https:") {
    throw new RangeError(
      `endpoint must use https (bearer tokens are sent to it), got ${JSON.stringify(raw)}`,
    );
  }
  return url.toString().replace(/\/+$/, "");
}

export class ArmClientFactory {
  readonly #opts: ClientFactoryOptions;
  readonly #agent: Agent;
  readonly #clients = new Map<string, ArmClients>();

  constructor(opts: ClientFactoryOptions) {
    this.#opts = opts;
    // The extra CA is added to Node's bundled roots rather than replacing them, so the same agent
    // still reaches public endpoints (and AAD) if the endpoint is a real cloud.
    // The context is built once and passed as `secureContext`, not `ca`: https.Agent appends `ca`
    // (~150 PEMs) to its pool key on every request and rebuilds a context per connection.
    const secureContext =
      opts.caPem === undefined ? undefined : createSecureContext({ ca: [...rootCertificates, opts.caPem] });
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: 64,
      ...(secureContext === undefined ? {} : { secureContext }),
    });
  }

  for(subscriptionId: string): ArmClients {
    const key = subscriptionId.toLowerCase();
    let c = this.#clients.get(key);
    if (c === undefined) {
      const endpoint = this.#opts.endpoint;
      const options = {
        endpoint,
        agent: this.#agent,
        retryOptions: { maxRetries: 0 },
        userAgentOptions: { userAgentPrefix: "drawbridge" },
        additionalPolicies: [{ policy: this.#opts.policy, position: "perCall" as const }],
        ...(isAzureCloudEndpoint(endpoint) ? { credentials: { scopes: [`${endpoint}/.default`] } } : {}),
      };
      c = {
        network: new NetworkManagementClient(this.#opts.credential, subscriptionId, options),
        compute: new ComputeManagementClient(this.#opts.credential, subscriptionId, options),
      };
      this.#clients.set(key, c);
    }
    return c;
  }

  /** Close idle keep-alive sockets; later calls open new ones. */
  close(): void {
    this.#agent.destroy();
    this.#clients.clear();
  }
}
