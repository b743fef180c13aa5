// Credentials for ARM. Production uses DefaultAzureCredential (environment, AKS workload identity,
// managed identity, Azure CLI, ...); the ARM emulator accepts any bearer token, so pointing the
// operator at it (--arm-endpoint / --arm-ca-file) selects a static token instead.
// @azure/identity is loaded only when a real Entra ID token is first needed: it adds ~13 MiB of
// resident memory that an operator pointed at the emulator never uses.
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";

/** A credential that always returns the same token; for the ARM emulator and tests only. */
export class StaticTokenCredential implements TokenCredential {
  readonly #token: string;
  readonly #lifetimeMs: number;

  constructor(token: string, lifetimeMs = 60 * 60 * 1000) {
    if (token.trim() === "") throw new RangeError("static ARM token must not be empty");
    this.#token = token;
    this.#lifetimeMs = lifetimeMs;
  }

  getToken(): Promise<AccessToken> {
    return Promise.resolve({ token: this.#token, expiresOnTimestamp: Date.now() + this.#lifetimeMs });
  }
}

/** DefaultAzureCredential, created on the first token request. */
export class LazyDefaultAzureCredential implements TokenCredential {
  readonly #managedIdentityClientId: string | undefined;
  #inner: Promise<TokenCredential> | undefined;

  constructor(managedIdentityClientId?: string) {
    this.#managedIdentityClientId = managedIdentityClientId;
  }

  /** The underlying DefaultAzureCredential (loads @azure/identity). */
  inner(): Promise<TokenCredential> {
    this.#inner ??= import("@azure/identity").then(({ DefaultAzureCredential }) =>
      this.#managedIdentityClientId === undefined
        ? new DefaultAzureCredential()
        : new DefaultAzureCredential({ managedIdentityClientId: this.#managedIdentityClientId }),
    );
    return this.#inner;
  }

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    return (await this.inner()).getToken(scopes, options);
  }
}

export interface CredentialConfig {
  /** --arm-endpoint: set when the operator talks to a non-default ARM endpoint (the emulator). */
  armEndpoint?: string | undefined;
  /** --arm-ca-file: an extra CA only makes sense for the emulator, so it selects the static token. */
  armCaFile?: string | undefined;
  /** Token for that endpoint; default "drawbridge-emulator". */
  staticToken?: string | undefined;
  /** For DefaultAzureCredential: the user-assigned identity's client id (workload identity sets it via env). */
  managedIdentityClientId?: string | undefined;
}

/** ARM hosts of the Azure clouds (public, US Government, China): real Entra ID tokens needed. */
const AZURE_ARM_HOSTS = [
  "management.azure.com",
  "management.usgovcloudapi.net",
  "management.chinacloudapi.cn",
];

export function isAzureCloudEndpoint(endpoint: string): boolean {
  try {
    return AZURE_ARM_HOSTS.includes(new URL(endpoint).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/**
 * DefaultAzureCredential against an Azure cloud; a StaticTokenCredential when a CA file is given
 * or the endpoint is not an Azure cloud (the emulator), so no real token is ever sent there.
 */
export function createCredential(cfg: CredentialConfig): TokenCredential {
  const endpoint = cfg.armEndpoint ?? "";
  if ((cfg.armCaFile ?? "") !== "" || (endpoint !== "" && !isAzureCloudEndpoint(endpoint))) {
    return new StaticTokenCredential(cfg.staticToken ?? "drawbridge-emulator");
  }
  return new LazyDefaultAzureCredential(cfg.managedIdentityClientId);
}
