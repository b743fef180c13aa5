// The Azure port: what the reconcilers need from ARM, independent of the SDKs. The adapter in
// ./adapter.ts implements it over @azure/arm-network and @azure/arm-compute.
import type { ObservedNsg, SecurityRule } from "../core/nsg.ts";

export type AzureErrorKind =
  | "Throttled" // 429; retryAfterMs set
  | "Conflict" // 409 e.g. AnotherOperationInProgress, SecurityRuleConflict
  | "PreconditionFailed" // 412: etag changed; re-read and re-plan
  | "NotFound" // 404
  | "Invalid" // 400: Azure refused the body; not retryable
  | "Unauthorized" // 401/403
  | "Transient"; // 5xx, timeouts, dropped connections

export class AzureError extends Error {
  readonly kind: AzureErrorKind;
  readonly code: string | undefined;
  readonly statusCode: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: AzureErrorKind,
    message: string,
    opts: { code?: string; statusCode?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "AzureError";
    this.kind = kind;
    this.code = opts.code;
    this.statusCode = opts.statusCode;
    this.retryAfterMs = opts.retryAfterMs;
  }

  get retryable(): boolean {
    return this.kind === "Throttled" || this.kind === "Conflict" || this.kind === "Transient";
  }
}

export interface ResolvedVm {
  id: string;
  privateIpAddresses: string[];
  /** NSGs attached to the VM's NICs. */
  networkInterfaceNsgIds: string[];
  /** NSGs attached to the subnets of the VM's NIC ip configurations. */
  subnetNsgIds: string[];
}

export interface AzurePort {
  /** VM -> NICs -> private IPs, subnets and NSGs (cached by the adapter, refreshed periodically). */
  resolveVirtualMachine(vmId: string): Promise<ResolvedVm>;
  getNsg(nsgId: string): Promise<ObservedNsg>;
  /** Every NSG of a subscription, read with paged list calls. */
  listNsgs(subscriptionId: string): Promise<ObservedNsg[]>;
  /** rule write mode */
  putRule(nsgId: string, rule: SecurityRule): Promise<void>;
  deleteRule(nsgId: string, ruleName: string): Promise<void>;
  /** nsg write mode: one PUT of the whole NSG with If-Match: nsg.etag; 412 -> PreconditionFailed. */
  replaceRules(nsg: ObservedNsg, securityRules: SecurityRule[]): Promise<ObservedNsg>;
}
