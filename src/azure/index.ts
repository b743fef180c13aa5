// Public surface of the Azure area: the port the reconcilers use and its SDK adapter.
export { AzureError } from "./port.ts";
export type { AzureErrorKind, AzurePort, ResolvedVm } from "./port.ts";
export { createAzureAdapter } from "./adapter.ts";
export type { AzureAdapter, AzureAdapterOptions, AzureAdapterStats } from "./adapter.ts";
export type { ArmCallHook } from "./arm-policy.ts";
export { createCredential, isAzureCloudEndpoint, StaticTokenCredential } from "./credentials.ts";
export type { CredentialConfig } from "./credentials.ts";
export { DEFAULT_ARM_ENDPOINT } from "./clients.ts";
export { DEFAULT_RETRY_OPTIONS } from "./retry.ts";
export type { RetryOptions } from "./retry.ts";
export { DEFAULT_RATE_LIMITS, SubscriptionRateLimiter } from "./token-bucket.ts";
export { ArmBudget, sharedLimits } from "./rate-share.ts";
export type { RateLimits } from "./token-bucket.ts";
export { parseNsgId, parseVmId } from "./ids.ts";
