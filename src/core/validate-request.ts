// AccessRequest checks: the shape (as the CRD would), then the semantics against its policy.
import type { AccessRequest, JitPolicy, PolicyPort } from "../api/types.ts";
import {
  checkArray,
  checkDuration,
  checkInteger,
  checkPrefix,
  checkString,
  issue,
  isRecord,
  show,
} from "./checks.ts";
import { isWildcardPrefix, parsePrefix, prefixContains, prefixFamily } from "./cidr.ts";
import { justificationIssue } from "./approval-justification.ts";
import { DURATION_BOUNDS, formatDuration } from "./duration.ts";
import { sourceLengthShapeIssue, sourceWidthIssue } from "./source-limits.ts";
import type { Issue } from "./types.ts";
import { NSG_ID_PATTERN, VM_ID_PATTERN, effectivePolicySpec, validatePolicySpec } from "./validate-policy.ts";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function policyNameIssues(name: unknown): Issue[] {
  const bad = checkString(name, "spec.policyName", "InvalidPolicyName", { min: 1, max: 253 });
  if (bad !== undefined) return [bad];
  if (!DNS_SUBDOMAIN.test(name as string)) {
    const msg = `spec.policyName ${show(name)} must be a JitPolicy name in this namespace: lower-case letters, digits, '-' and '.'`;
    return [issue("InvalidPolicyName", "spec.policyName", msg)];
  }
  return [];
}

function targetIssues(targets: unknown): Issue[] {
  if (targets === undefined) return [];
  const arr = checkArray(targets, "spec.targets", "InvalidTarget", { min: 1, max: 100 });
  if (arr !== undefined || !Array.isArray(targets)) return arr === undefined ? [] : [arr];
  const out: Issue[] = [];
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    const field = `spec.targets[${i}]`;
    if (typeof t !== "string" || t.length > 512 || !(VM_ID_PATTERN.test(t) || NSG_ID_PATTERN.test(t))) {
      out.push(
        issue(
          "InvalidTarget",
          field,
          `${field} must be a virtual machine or NSG ARM id from the policy, got ${show(t)}`,
        ),
      );
    } else if (seen.has(t)) {
      out.push(issue("InvalidTarget", field, `${field} lists ${t} twice`));
    } else seen.add(t);
  });
  return out;
}

function portIssues(ports: unknown): Issue[] {
  const arr = checkArray(ports, "spec.ports", "InvalidPort", { min: 1, max: 32 });
  if (arr !== undefined || !Array.isArray(ports)) return arr === undefined ? [] : [arr];
  const out: Issue[] = [];
  ports.forEach((p, i) => {
    const bad = checkInteger(p, `spec.ports[${i}]`, "InvalidPort", { min: 1, max: 65535 });
    if (bad !== undefined) out.push(bad);
    else if (ports.indexOf(p) !== i)
      out.push(issue("InvalidPort", `spec.ports[${i}]`, `spec.ports[${i}] lists port ${p} twice`));
  });
  return out;
}

const REQUEST_DURATION = {
  minMs: DURATION_BOUNDS.requestMinMs,
  maxMs: DURATION_BOUNDS.requestMaxMs,
  tooShort: "DurationTooShort",
  tooLong: "DurationExceedsMax",
};

/** What the CRD checks on an AccessRequest spec, re-checked. */
export function requestShapeIssues(spec: unknown): Issue[] {
  if (!isRecord(spec)) return [issue("MissingField", "spec", "spec is required and must be an object")];
  const source = spec["sourceAddressPrefix"];
  const revoked = spec["revoked"];
  const out: (Issue | undefined)[] = [
    ...policyNameIssues(spec["policyName"]),
    ...targetIssues(spec["targets"]),
    ...portIssues(spec["ports"]),
    source === undefined
      ? issue(
          "MissingField",
          "spec.sourceAddressPrefix",
          "spec.sourceAddressPrefix is required (e.g. 203.0.113.7/32)",
        )
      : (checkPrefix(source, "spec.sourceAddressPrefix", "InvalidSourcePrefix", true) ??
        (typeof source === "string" ? sourceLengthShapeIssue(source) : undefined)),
    checkDuration(spec["duration"], "spec.duration", REQUEST_DURATION).issue,
    checkString(spec["justification"], "spec.justification", "InvalidJustification", {
      min: 1,
      max: 512,
      nonBlank: true,
    }),
    checkString(spec["requester"], "spec.requester", "InvalidRequester", {
      min: 1,
      max: 256,
      nonBlank: true,
    }),
    revoked === undefined || typeof revoked === "boolean"
      ? undefined
      : issue("InvalidRevoked", "spec.revoked", `spec.revoked must be true or false, got ${show(revoked)}`),
  ];
  return out.filter((i) => i !== undefined);
}

export function policyLabel(policy: JitPolicy): string {
  return policy.metadata.name ?? "<unnamed>";
}

/**
 * Does the port admit this request source? "*" and "Any" admit every specific prefix; wildcards need
 * an exact listing. A specific prefix must also be no wider than the port's minimumSourcePrefixLength
 * (default /24, /48), listed or not: the list says where a source may lie, the minimum how wide one
 * request may be. grants.ts applies the same check, so a grant wider than the policy allows now closes.
 */
export function sourceIssue(source: string, port: PolicyPort, policyName: string): Issue | undefined {
  const field = "spec.sourceAddressPrefix";
  const where = `port ${port.number}/${port.protocol} in policy ${policyName}`;
  const allowed = port.allowedSourceAddressPrefixes;
  if (isWildcardPrefix(source)) {
    if (allowed?.includes(source) === true) return undefined;
    return issue(
      "WildcardNotAllowed",
      field,
      `${field} ${source} is a wildcard, which ${where} does not list`,
    );
  }
  if (allowed === undefined) return sourceWidthIssue(source, port, policyName);
  const normalized = parsePrefix(source);
  if (!normalized.ok) return issue("InvalidSourcePrefix", field, `${field}: ${normalized.error}`);
  const inside = allowed.some((a) => a === "*" || a === "Any" || prefixContains(a, normalized.prefix.text));
  if (inside) return sourceWidthIssue(source, port, policyName);
  return issue(
    "SourceNotAllowed",
    field,
    `${field} ${source} is not inside the allowed prefixes of ${where} (${allowed.join(", ")})`,
  );
}

export function durationIssue(
  durationMs: number,
  duration: string,
  port: PolicyPort,
  policyName: string,
): Issue | undefined {
  const max = checkDuration(port.maxDuration, "maxDuration", {
    minMs: 0,
    maxMs: Number.MAX_SAFE_INTEGER,
    tooShort: "",
    tooLong: "",
  });
  if (max.ms === undefined || durationMs <= max.ms) return undefined;
  const msg = `spec.duration ${duration} exceeds the maximum ${formatDuration(max.ms)} of port ${port.number}/${port.protocol} in policy ${policyName}`;
  return issue("DurationExceedsMax", "spec.duration", msg);
}

/** An NSG target whose declared destinations are all of the other address family can never be reached. */
function familyIssue(source: string, policy: JitPolicy, targets: string[] | undefined): Issue | undefined {
  const parsed = parsePrefix(source);
  if (!parsed.ok) return undefined;
  const wanted = targets?.map((t) => t.toLowerCase());
  for (const t of effectivePolicySpec(policy.spec).targets) {
    const id = t.networkSecurityGroupId;
    if (id === undefined || (wanted !== undefined && !wanted.includes(id.toLowerCase()))) continue;
    const dests = t.destinationAddressPrefixes ?? [];
    if (dests.length > 0 && dests.every((d) => prefixFamily(d) !== parsed.prefix.family)) {
      const msg =
        `spec.sourceAddressPrefix ${source} is ${parsed.prefix.family}, but target ${id} of policy ` +
        `${policyLabel(policy)} has only other-family destinations (${dests.join(", ")})`;
      return issue("AddressFamilyMismatch", "spec.sourceAddressPrefix", msg);
    }
  }
  return undefined;
}

/** The policy's port entries a request port number selects (TCP and UDP, or Any). */
export function portEntries(policy: JitPolicy, port: number): PolicyPort[] {
  return effectivePolicySpec(policy.spec).ports.filter((p) => p.number === port);
}

/** Request checks that need the policy: its existence, its validity, targets, ports, sources, durations. */
export function semanticIssues(request: AccessRequest, policy: JitPolicy | undefined): Issue[] {
  const spec = request.spec;
  const ns = request.metadata.namespace;
  if (policy === undefined || policy.metadata.namespace !== ns || policy.metadata.name !== spec.policyName) {
    const msg = `spec.policyName: JitPolicy ${spec.policyName} does not exist in namespace ${ns ?? "<none>"}`;
    return [issue("PolicyNotFound", "spec.policyName", msg)];
  }
  const policyIssues = validatePolicySpec(policy.spec);
  if (policyIssues.length > 0) {
    const first = policyIssues[0];
    const msg = `spec.policyName: JitPolicy ${spec.policyName} is invalid (${first?.message ?? ""})`;
    return [issue("PolicyInvalid", "spec.policyName", msg)];
  }
  const name = policyLabel(policy);
  const out: Issue[] = [];
  const targetIds = new Set(
    effectivePolicySpec(policy.spec).targets.map((t) =>
      (t.virtualMachineId ?? t.networkSecurityGroupId ?? "").toLowerCase(),
    ),
  );
  (spec.targets ?? []).forEach((t, i) => {
    if (!targetIds.has(t.toLowerCase())) {
      out.push(
        issue(
          "TargetNotInPolicy",
          `spec.targets[${i}]`,
          `spec.targets[${i}] ${t} is not a target of policy ${name}`,
        ),
      );
    }
  });
  const durationMs = checkDuration(spec.duration, "spec.duration", REQUEST_DURATION).ms ?? 0;
  spec.ports.forEach((n, i) => {
    const entries = portEntries(policy, n);
    if (entries.length === 0) {
      const listed = effectivePolicySpec(policy.spec)
        .ports.map((p) => `${p.number}/${p.protocol}`)
        .join(", ");
      out.push(
        issue(
          "PortNotAllowed",
          `spec.ports[${i}]`,
          `spec.ports[${i}] ${n} is not a port of policy ${name} (${listed})`,
        ),
      );
    }
    for (const entry of entries) {
      const s = sourceIssue(spec.sourceAddressPrefix, entry, name);
      if (s !== undefined) out.push(s);
      const d = durationIssue(durationMs, spec.duration, entry, name);
      if (d !== undefined) out.push(d);
    }
  });
  const family = familyIssue(spec.sourceAddressPrefix, policy, spec.targets);
  if (family !== undefined) out.push(family);
  // The policy's justification rule: the admission policy cannot read the policy, so it is checked here.
  const why = justificationIssue(spec.justification, policy.spec.justification, name);
  if (why !== undefined) out.push(why);
  return out;
}
