// The drawbridge API (group jit.drawbridge.dev, version v1alpha1) as TypeScript types.
// crds/*.yaml is the source of truth for the schema; test/unit/api-types-drift.test.ts fails when
// these types and the CRD schemas disagree on field names.

export const API_GROUP = "jit.drawbridge.dev";
export const API_VERSION = "v1alpha1";
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const JITPOLICY_PLURAL = "jitpolicies";
export const ACCESSREQUEST_PLURAL = "accessrequests";
export const ACCESSAPPROVAL_PLURAL = "accessapprovals";
export const JITNOTIFIER_PLURAL = "jitnotifiers";

export type Protocol = "TCP" | "UDP" | "Any";
export type NsgScope = "All" | "NetworkInterface" | "Subnet";

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** metav1.Condition */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface PolicyTarget {
  virtualMachineId?: string;
  networkSecurityGroupId?: string;
  /** Required for NSG targets: the addresses the grant opens towards. */
  destinationAddressPrefixes?: string[];
}

export interface PolicyPort {
  number: number;
  protocol: Protocol;
  /** Omitted: any specific (non-wildcard) prefix the request names. */
  allowedSourceAddressPrefixes?: string[];
  /** ISO-8601 duration, PT1M..P1D */
  maxDuration: string;
  /** Widest prefix one request may name, per family (default ipv4 24, ipv6 48; at most ipv4 8, ipv6 16). */
  minimumSourcePrefixLength?: SourcePrefixLengths;
  /** The active grants of one rule may cover together at most as many addresses as one prefix of
   * this length (default: the minimum minus 4, i.e. 16 prefixes of the minimum length). */
  sourceUnionPrefixLength?: SourcePrefixLengths;
  /** Replaces the policy's spec.approval for requests that name this port. */
  approval?: ApprovalPolicy;
}

/** Who must approve a request before it opens (ADR: approvals-and-notifications). */
export interface ApprovalPolicy {
  /** Distinct eligible approvals needed, 0..10; 0 (the default) approves automatically. */
  required: number;
  /** Who may approve: user names and group names, as the API server authenticates them. */
  approvers?: { users?: string[]; groups?: string[] };
  /** Whether the requester's own approval counts (default false). */
  allowSelfApproval?: boolean;
  /** ISO-8601 duration, PT10S..P7D, default PT1H: how long a request waits before it is TimedOut. */
  timeout?: string;
}

/** What a request's spec.justification must look like under this policy. */
export interface JustificationRule {
  /** A non-blank justification (the CRD already requires one; kept for clarity). */
  required?: boolean;
  /** At least this many characters, 1..512. */
  minLength?: number;
  /** An ECMAScript regular expression (unicode mode) the justification must match, e.g. ^(INC|CHG)-[0-9]+ */
  pattern?: string;
}

export interface PriorityRange {
  from: number;
  to: number;
}

export interface JitPolicySpec {
  targets: PolicyTarget[];
  ports: PolicyPort[];
  priorityRange: PriorityRange;
  nsgScope: NsgScope;
  /** Renewal cap: how long a chain of renewals may keep access open from the original start (ISO-8601). */
  maxTotalDuration?: string;
  /** Renewal cap: how many renewals one grant may have (0 forbids renewal). */
  maxRenewals?: number;
  /** Omitted or required 0: requests are approved automatically. */
  approval?: ApprovalPolicy;
  justification?: JustificationRule;
}

export interface ResolvedTargetStatus {
  /** The virtualMachineId or networkSecurityGroupId named in spec.targets. */
  id: string;
  privateIpAddresses?: string[];
  networkSecurityGroupIds?: string[];
  message?: string;
}

export interface JitPolicyStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  targets?: ResolvedTargetStatus[];
  /** The operator's HMAC over the policy uid and status.targets; unsigned or forged targets bind nothing. */
  targetsSignature?: string;
  /** spec.ports as "number/protocol" joined by commas (e.g. "22/TCP,3389/TCP"): the Ports column of
   * `kubectl get jp`, since a printer column shows only the first element of a list. */
  portSummary?: string;
}

export interface JitPolicy {
  apiVersion: typeof API_GROUP_VERSION;
  kind: "JitPolicy";
  metadata: ObjectMeta;
  spec: JitPolicySpec;
  status?: JitPolicyStatus;
}

export type AccessRequestPhase =
  "Pending" | "Active" | "Expired" | "Revoked" | "Denied" | "Failed" | "Superseded" | "TimedOut";

export interface AccessRequestSpec {
  policyName: string;
  /** virtualMachineId or networkSecurityGroupId values of the policy's targets; omitted -> all. */
  targets?: string[];
  ports: number[];
  sourceAddressPrefix: string;
  /** ISO-8601 duration, PT10S..P1D, <= the port's maxDuration */
  duration: string;
  justification: string;
  requester: string;
  /** Renewal: the Active request (same requester, policy, targets, ports, source) this one carries on. */
  supersedes?: string;
  revoked?: boolean;
}

export interface GrantRuleStatus {
  networkSecurityGroupId: string;
  ruleName: string;
  priority: number;
  port: number;
  protocol: Protocol;
}

export interface AccessRequestStatus {
  phase?: AccessRequestPhase;
  startTime?: string;
  expiresAt?: string;
  observedGeneration?: number;
  conditions?: Condition[];
  rules?: GrantRuleStatus[];
  /** Machine-readable reason for the current phase (e.g. SourceNotAllowed). */
  reason?: string;
  message?: string;
  /** What the approval bound the grant to; later policy edits may narrow it, never widen it. */
  approved?: ApprovedGrant;
  /** The operator's HMAC over the approval (uid, spec, startTime, expiresAt, approved); without it no grant opens. */
  approvalSignature?: string;
  /** For a renewal: the original request's startTime, from which maxTotalDuration counts (signed). */
  chainStartTime?: string;
  /** For a renewal: how many renewals its chain holds, this one included (signed). */
  renewals?: number;
  /** The AccessApprovals the operator saw for this request, counted or not (and why not). */
  approvals?: ApprovalRecord[];
  /** "counted/required" (e.g. "1/2"): the Approvals column of `kubectl get ar`; unset when automatic. */
  approvalSummary?: string;
}

export interface ApprovalRecord {
  /** The AccessApproval's name. */
  name: string;
  approver: string;
  decision: ApprovalDecision;
  /** The AccessApproval's creationTimestamp. */
  time: string;
  counted: boolean;
  /** Why it does not count (e.g. NotAnApprover, SelfApproval); absent when counted. */
  reason?: string;
}

export interface AccessRequest {
  apiVersion: typeof API_GROUP_VERSION;
  kind: "AccessRequest";
  metadata: ObjectMeta;
  spec: AccessRequestSpec;
  status?: AccessRequestStatus;
}

export const TERMINAL_PHASES: readonly AccessRequestPhase[] = [
  "Expired",
  "Revoked",
  "Denied",
  "Failed",
  "Superseded",
  "TimedOut",
];

export type ApprovalDecision = "Approve" | "Reject";

export interface AccessApprovalSpec {
  /** The AccessRequest (same namespace) this answers, by name and uid: a recreated request is a new one. */
  requestName: string;
  requestUID: string;
  decision: ApprovalDecision;
  comment?: string;
  /** Must equal the authenticated user name at admission (the approver admission policy). */
  approver: string;
  /** Each must be one of the authenticated user's groups at admission; only these count for eligibility. */
  approverGroups?: string[];
}

/** One person's answer to one AccessRequest; immutable once created. */
export interface AccessApproval {
  apiVersion: typeof API_GROUP_VERSION;
  kind: "AccessApproval";
  metadata: ObjectMeta;
  spec: AccessApprovalSpec;
}

export type NotifierFormat = "CloudEvents" | "Slack" | "Teams";

export type NotificationType =
  | "Requested"
  | "AwaitingApproval"
  | "Approved"
  | "Rejected"
  | "Denied"
  | "Opened"
  | "ExpiringSoon"
  | "Closed";

export interface JitNotifierSpec {
  /** The Secret (same namespace) and key holding the webhook URL. */
  webhookSecretRef: { name: string; key: string };
  format: NotifierFormat;
  /** The event types to send; omitted: all. */
  events?: NotificationType[];
  /** Only requests of these policies; omitted: all of the namespace. */
  policies?: string[];
}

/** A webhook the operator posts the namespace's AccessRequest events to. */
export interface JitNotifier {
  apiVersion: typeof API_GROUP_VERSION;
  kind: "JitNotifier";
  metadata: ObjectMeta;
  spec: JitNotifierSpec;
}
export const FINALIZER = "jit.drawbridge.dev/finalizer";

// JitScope (cluster-scoped): the part of Azure the JitPolicies of some namespaces may target, and the
// ceilings those policies must stay under. A target no bound scope covers is never opened.
export const JITSCOPE_PLURAL = "jitscopes";

export type LabelSelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

/** metav1.LabelSelectorRequirement */
export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  /** Non-empty for In and NotIn, empty or absent for Exists and DoesNotExist. */
  values?: string[];
}

/** metav1.LabelSelector: every matchLabels entry and every requirement must hold; {} matches everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** The namespaces a JitScope binds: those named, and those the selector matches (at least one is set). */
export interface ScopeNamespaces {
  names?: string[];
  selector?: LabelSelector;
}

/** Limits every policy target a scope covers must respect. */
export interface ScopeCeilings {
  /** The policy's spec.priorityRange must lie inside this band. */
  priorityRange?: PriorityRange;
  /** ISO-8601 duration, PT1M..P1D: no port's maxDuration may exceed it. */
  maxDuration?: string;
  /** Every source prefix a policy port lists must lie inside one of these; wildcards only when listed exactly. */
  allowedSourceAddressPrefixes?: string[];
}

export interface JitScopeSpec {
  namespaces: ScopeNamespaces;
  /** ARM id prefixes: /subscriptions/<guid>[/resourceGroups/<rg>[/...]], compared case-insensitively. */
  azureScopes: string[];
  ceilings?: ScopeCeilings;
}

export interface JitScopeStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** The namespaces the scope currently binds, sorted (written by the operator). */
  namespaces?: string[];
}

export interface JitScope {
  apiVersion: typeof API_GROUP_VERSION;
  kind: "JitScope";
  /** Cluster-scoped: metadata.namespace is never set. */
  metadata: ObjectMeta;
  spec: JitScopeSpec;
  status?: JitScopeStatus;
}

/** A prefix length per address family (ipv4 8..32, ipv6 16..128); an omitted family keeps its default. */
export interface SourcePrefixLengths {
  ipv4?: number;
  ipv6?: number;
}

/**
 * AccessRequest status.approved: the targets and port protocols the policy gave a request when it
 * was approved. A grant opens only what both this and the policy as it is now allow, so adding a
 * target to the policy or widening a port's protocol never widens a grant already approved.
 */
export interface ApprovedGrant {
  /** Target ids as the policy wrote them at approval (spec.targets, or all of the policy's). */
  targets: string[];
  /** Per requested port, each protocol the policy listed for it at approval. */
  ports: ApprovedPort[];
}

export interface ApprovedPort {
  number: number;
  protocol: Protocol;
}

export const JITSCOPEINDEX_PLURAL = "jitscopeindexes";

/** The scope index the operator publishes for the scope admission policy (ADR 0006). */
export interface JitScopeIndex {
  apiVersion: typeof API_GROUP_VERSION;
  kind: "JitScopeIndex";
  metadata: ObjectMeta;
  /** How many namespaces `data` lists. */
  namespaces?: number;
  /** Namespace -> lower-cased ARM id prefixes separated by spaces; plus allowUnscopedNamespaces. */
  data?: Record<string, string>;
}
