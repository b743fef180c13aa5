// JitScope evaluation: which namespaces a scope binds, whether each target of a JitPolicy lies inside a
// scope bound to the policy's namespace and keeps to that scope's ceilings, and the per-namespace
// index of scopes the admission policy reads. Pure: no I/O, no clock.
//
// Everything here fails closed: a malformed scope, selector, prefix or duration covers nothing, so an
// object that slipped past admission can only narrow what is opened, never widen it.
import type {
  JitPolicy,
  JitPolicySpec,
  JitScope,
  LabelSelector,
  LabelSelectorRequirement,
  PolicyPort,
  PolicyTarget,
  PriorityRange,
  ScopeCeilings,
} from "../api/types.ts";
import { isRecord } from "./checks.ts";
import { isWildcardPrefix, normalizePrefix, prefixContains } from "./cidr.ts";
import { parseDuration } from "./duration.ts";
import { effectivePolicySpec } from "./validate-policy.ts";

/** A namespace as the scope checks see it. */
export interface NamespaceInfo {
  name: string;
  /** metadata.labels; absent means none. */
  labels?: Record<string, string>;
}

export interface TargetScope {
  /** The virtualMachineId or networkSecurityGroupId as written in the policy ("" when it names neither). */
  targetId: string;
  covered: boolean;
  /** The name of the covering scope, when covered. */
  scope?: string;
  /** Names the target, the namespace and why it is (not) covered. */
  message: string;
}

export interface PolicyScopeVerdict {
  /** One entry per spec.targets entry, in order. */
  targets: TargetScope[];
  /** The uncovered entries of targets. */
  outOfScope: TargetScope[];
}

const SUBSCRIPTION_PREFIX =
  /^\/subscriptions\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\/|$)/i;
const FORBIDDEN_CHARACTERS = /[\s?#%]/;
const AZURE_SCOPE_MAX_LENGTH = 512;

/**
 * Lower-cases ASCII letters only, as CEL's lowerAscii() does: ARM compares ids ordinally ignoring
 * ASCII case, and full Unicode case folding would equate strings ARM tells apart (e.g. the Kelvin
 * sign and "k").
 */
export function lowerAscii(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Why an azureScopes entry is not a usable ARM id prefix (the CRD's rules), or undefined when it is. */
export function azureScopeIssue(prefix: string): string | undefined {
  const shown = JSON.stringify(prefix);
  if (prefix.length === 0 || prefix.length > AZURE_SCOPE_MAX_LENGTH) {
    return `azureScope ${shown} must be 1 to ${AZURE_SCOPE_MAX_LENGTH} characters long`;
  }
  if (!SUBSCRIPTION_PREFIX.test(prefix)) {
    return `azureScope ${shown} must start with /subscriptions/<subscription-guid>`;
  }
  if (prefix.endsWith("/")) return `azureScope ${shown} must not end with '/'`;
  if (prefix.includes("//")) return `azureScope ${shown} must not contain an empty path segment ('//')`;
  if (FORBIDDEN_CHARACTERS.test(prefix)) {
    return `azureScope ${shown} must not contain whitespace, '?', '#' or '%'`;
  }
  return undefined;
}

/** The lower-cased path segments of an ARM id without trailing slashes; undefined for an empty id. */
function segments(id: string): string[] | undefined {
  const trimmed = lowerAscii(id).replace(/\/+$/, "");
  return trimmed === "" ? undefined : trimmed.split("/");
}

/**
 * True when `prefix` equals `id` or is a prefix of it on whole path segments, ignoring ASCII case
 * and trailing slashes: ".../resourceGroups/rg" contains ".../resourcegroups/RG/providers/..." but
 * not ".../resourceGroups/rg2". An empty prefix contains nothing.
 */
export function armIdWithin(id: string, prefix: string): boolean {
  const outer = segments(prefix);
  const inner = segments(id);
  if (outer === undefined || inner === undefined || outer.length > inner.length) return false;
  return outer.every((segment, i) => segment === inner[i]);
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes label key: [DNS-subdomain prefix (<= 253) "/"] name (<= 63). */
function isLabelKey(key: unknown): key is string {
  if (typeof key !== "string") return false;
  const parts = key.split("/");
  if (parts.length > 2) return false;
  const [first = "", second] = parts;
  if (second === undefined) return LABEL_NAME.test(first);
  return first.length <= 253 && DNS_SUBDOMAIN.test(first) && LABEL_NAME.test(second);
}

function isLabelValue(value: unknown): value is string {
  return typeof value === "string" && (value === "" || LABEL_NAME.test(value));
}

function labelOf(labels: Record<string, string>, key: string): string | undefined {
  // Own properties only: a label lookup must never find "constructor" on Object.prototype.
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

/** Whether one requirement is well formed and holds; a malformed requirement never holds. */
function requirementHolds(req: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const raw = req as Partial<Record<keyof LabelSelectorRequirement, unknown>>;
  if (!isLabelKey(raw.key)) return false;
  const values = raw.values ?? [];
  if (!Array.isArray(values) || !values.every(isLabelValue)) return false;
  const value = labelOf(labels, raw.key);
  switch (raw.operator) {
    case "In":
      return values.length > 0 && value !== undefined && values.includes(value);
    case "NotIn":
      return values.length > 0 && (value === undefined || !values.includes(value));
    case "Exists":
      return values.length === 0 && value !== undefined;
    case "DoesNotExist":
      return values.length === 0 && value === undefined;
    default:
      return false;
  }
}

/**
 * metav1.LabelSelector semantics: every matchLabels entry and every matchExpressions requirement must
 * hold; an empty selector matches every label set; a malformed selector matches nothing.
 */
export function labelSelectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  const raw = selector as Partial<Record<keyof LabelSelector, unknown>> | null;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return false;
  const matchLabels = raw.matchLabels ?? {};
  const expressions = raw.matchExpressions ?? [];
  if (typeof matchLabels !== "object" || Array.isArray(matchLabels)) return false;
  if (!Array.isArray(expressions)) return false;
  const pairs = Object.entries(matchLabels as Record<string, unknown>);
  if (!pairs.every(([k, v]) => isLabelKey(k) && isLabelValue(v))) return false;
  return (
    pairs.every(([k, v]) => labelOf(labels, k) === v) &&
    (expressions as LabelSelectorRequirement[]).every((req) => requirementHolds(req, labels))
  );
}

/** True when the scope binds the namespace: listed in spec.namespaces.names, or matched by its selector. */
export function scopeBindsNamespace(scope: JitScope, ns: NamespaceInfo): boolean {
  const spec = (scope as Partial<JitScope>).spec as Partial<JitScope["spec"]> | undefined;
  const namespaces = spec?.namespaces;
  if (namespaces === undefined) return false;
  const names: unknown = namespaces.names;
  if (Array.isArray(names) && names.includes(ns.name)) return true;
  return namespaces.selector !== undefined && labelSelectorMatches(namespaces.selector, ns.labels ?? {});
}

/** The scope's azureScopes entries that are well-formed ARM id prefixes; the others cover nothing. */
function validAzureScopes(scope: JitScope): string[] {
  const list: unknown = (scope.spec as Partial<JitScope["spec"]> | undefined)?.azureScopes;
  if (!Array.isArray(list)) return [];
  return list.filter((p): p is string => typeof p === "string" && azureScopeIssue(p) === undefined);
}

function scopeName(scope: JitScope): string {
  return (scope.metadata as JitScope["metadata"] | undefined)?.name ?? "<unnamed>";
}

function byName(a: JitScope, b: JitScope): number {
  const x = scopeName(a);
  const y = scopeName(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** How a port reads in a message, saying when the CRD defaults supplied it. */
function portLabel(port: PolicyPort, i: number, defaulted: boolean): string {
  const where = defaulted ? `default port ${i} of an omitted spec.ports` : `spec.ports[${i}]`;
  return `${where} (${port.number}/${port.protocol})`;
}

function bandFailure(band: PriorityRange, ceiling: PriorityRange | undefined): string | undefined {
  if (ceiling === undefined) return undefined;
  if (band.from >= ceiling.from && band.to <= ceiling.to) return undefined;
  return `spec.priorityRange ${band.from}..${band.to} lies outside its ceiling ${ceiling.from}..${ceiling.to}`;
}

function durationFailure(
  ports: PolicyPort[],
  ceiling: string | undefined,
  defaulted: boolean,
): string | undefined {
  if (ceiling === undefined) return undefined;
  const max = parseDuration(ceiling);
  if (!max.ok)
    return `its ceiling maxDuration ${JSON.stringify(ceiling)} is not a valid duration, so it admits nothing`;
  for (const [i, port] of ports.entries()) {
    const own = parseDuration(port.maxDuration);
    const label = portLabel(port, i, defaulted);
    if (!own.ok)
      return `${label} has maxDuration ${JSON.stringify(port.maxDuration)}, which is not a valid duration`;
    if (own.ms > max.ms)
      return `${label} has maxDuration ${port.maxDuration}, above its ceiling maxDuration ${ceiling}`;
  }
  return undefined;
}

/** Whether one policy source lies inside the ceiling: wildcards only when listed exactly. */
function sourceWithin(source: string, ceiling: string[]): boolean {
  if (isWildcardPrefix(source)) return ceiling.includes(source);
  const normalized = normalizePrefix(source);
  if (normalized === undefined) return false;
  // "*" and "Any" mean every address, as they do for a request's source under a policy port.
  return ceiling.some((c) => c === "*" || c === "Any" || prefixContains(c, normalized));
}

function sourceFailure(
  ports: PolicyPort[],
  ceiling: string[] | undefined,
  defaulted: boolean,
): string | undefined {
  if (ceiling === undefined) return undefined;
  const listed = ceiling.join(", ");
  for (const [i, port] of ports.entries()) {
    const label = portLabel(port, i, defaulted);
    const sources = port.allowedSourceAddressPrefixes;
    if (sources === undefined) {
      return (
        `${label} lists no allowedSourceAddressPrefixes, so it would admit any source; list sources ` +
        `inside its ceiling allowedSourceAddressPrefixes (${listed})`
      );
    }
    const outside = sources.find((s) => !sourceWithin(s, ceiling));
    if (outside === undefined) continue;
    const ceilingText = `its ceiling allowedSourceAddressPrefixes (${listed})`;
    return isWildcardPrefix(outside)
      ? `${label} allows source ${outside}, a wildcard ${ceilingText} does not list exactly`
      : `${label} allows source ${outside}, which lies outside ${ceilingText}`;
  }
  return undefined;
}

/**
 * The ceilings with malformed parts made harmless but strict: a band that is not two numbers admits
 * no band, a maxDuration that is not a string no duration, a source list that is not strings no source.
 */
function saneCeilings(ceilings: unknown): ScopeCeilings {
  if (typeof ceilings !== "object" || ceilings === null) return {};
  const raw = ceilings as Partial<Record<keyof ScopeCeilings, unknown>>;
  const out: ScopeCeilings = {};
  if (raw.priorityRange !== undefined) {
    const band = isRecord(raw.priorityRange) ? raw.priorityRange : {};
    const { from, to } = band;
    const ok = typeof from === "number" && typeof to === "number";
    out.priorityRange = ok ? { from, to } : { from: Infinity, to: -Infinity };
  }
  if (raw.maxDuration !== undefined) {
    out.maxDuration = typeof raw.maxDuration === "string" ? raw.maxDuration : JSON.stringify(raw.maxDuration);
  }
  if (raw.allowedSourceAddressPrefixes !== undefined) {
    const list = raw.allowedSourceAddressPrefixes;
    out.allowedSourceAddressPrefixes = Array.isArray(list)
      ? list.filter((p): p is string => typeof p === "string")
      : [];
  }
  return out;
}

/** The first ceiling of a scope the effective policy breaks, as the second half of a sentence. */
function ceilingFailure(spec: JitPolicySpec, scope: JitScope, defaulted: boolean): string | undefined {
  const ceilings = saneCeilings(scope.spec.ceilings);
  return (
    bandFailure(spec.priorityRange, ceilings.priorityRange) ??
    durationFailure(spec.ports, ceilings.maxDuration, defaulted) ??
    sourceFailure(spec.ports, ceilings.allowedSourceAddressPrefixes, defaulted)
  );
}

function targetIdOf(target: PolicyTarget): string | undefined {
  const id: unknown = target.virtualMachineId ?? target.networkSecurityGroupId;
  return typeof id === "string" && id !== "" ? id : undefined;
}

interface TargetContext {
  spec: JitPolicySpec;
  namespace: string;
  /** The scopes binding the namespace, in name order. */
  bound: JitScope[];
  /** The policy omitted spec.ports, so the CRD's default ports apply. */
  defaultedPorts: boolean;
}

function uncovered(targetId: string, message: string): TargetScope {
  return { targetId, covered: false, message };
}

function targetScope(target: PolicyTarget, index: number, ctx: TargetContext): TargetScope {
  const id = targetIdOf(target);
  const ns = ctx.namespace;
  if (id === undefined) {
    return uncovered(
      "",
      `spec.targets[${index}] names neither a virtualMachineId nor a networkSecurityGroupId, so no JitScope bound to namespace ${ns} can cover it`,
    );
  }
  if (ctx.bound.length === 0) {
    return uncovered(
      id,
      `no JitScope binds namespace ${ns}: nothing is opened until a cluster admin applies one (target ${id})`,
    );
  }
  let firstFailure: string | undefined;
  for (const scope of ctx.bound) {
    const prefix = validAzureScopes(scope).find((p) => armIdWithin(id, p));
    if (prefix === undefined) continue;
    const failure = ceilingFailure(ctx.spec, scope, ctx.defaultedPorts);
    const name = scopeName(scope);
    if (failure === undefined) {
      const message = `target ${id} is inside JitScope ${name} (${prefix}), which binds namespace ${ns}`;
      return { targetId: id, covered: true, scope: name, message };
    }
    firstFailure ??= `target ${id} is inside JitScope ${name}, but ${failure} (namespace ${ns})`;
  }
  if (firstFailure !== undefined) return uncovered(id, firstFailure);
  const names = ctx.bound.map(scopeName).join(", ");
  return uncovered(id, `target ${id} is outside every JitScope bound to namespace ${ns} (${names})`);
}

/**
 * Checks each target of a policy against the scopes bound to its namespace. A target is covered when
 * some bound scope has an azureScope containing it and the policy (with the CRD defaults applied, as
 * the operator sees it) keeps to that scope's ceilings. When several scopes contain a target and each
 * breaks a ceiling, the first failure in scope-name order is reported.
 */
export function checkPolicyScope(
  policy: JitPolicy,
  ns: NamespaceInfo,
  scopes: JitScope[],
): PolicyScopeVerdict {
  const rawPorts = (policy.spec as Partial<JitPolicySpec>).ports;
  const ctx: TargetContext = {
    spec: effectivePolicySpec(policy.spec),
    namespace: ns.name,
    bound: scopes.filter((s) => scopeBindsNamespace(s, ns)).sort(byName),
    defaultedPorts: rawPorts === undefined || rawPorts.length === 0,
  };
  const targets = ctx.spec.targets.map((t, i) => targetScope(t, i, ctx));
  return { targets, outOfScope: targets.filter((t) => !t.covered) };
}

/**
 * Per namespace name (sorted), the sorted, de-duplicated, lower-cased (ASCII) azureScopes of every
 * scope that binds it; namespaces no scope binds are absent. Malformed prefixes are left out: they
 * cover nothing. Ceilings are not part of the index.
 */
export function scopeIndex(scopes: JitScope[], namespaces: NamespaceInfo[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const sorted = [...namespaces].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const ns of sorted) {
    const bound = scopes.filter((s) => scopeBindsNamespace(s, ns));
    if (bound.length === 0) continue;
    const prefixes = new Set(bound.flatMap(validAzureScopes).map(lowerAscii));
    const merged = [...(out.get(ns.name) ?? []), ...prefixes];
    out.set(ns.name, [...new Set(merged)].sort());
  }
  return out;
}
