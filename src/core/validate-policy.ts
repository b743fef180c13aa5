// Defence-in-depth re-check of a JitPolicy spec: everything the CRD schema and its CEL rules say,
// so an object that slipped past admission (older CRD, direct etcd write) is still refused.
import { approvalSpecIssues } from "./approval-checks.ts";
import type { JitPolicySpec, PolicyPort } from "../api/types.ts";
import {
  checkArray,
  checkDuration,
  checkInteger,
  checkPrefix,
  duplicateIssues,
  issue,
  isRecord,
  show,
} from "./checks.ts";
import { DURATION_BOUNDS } from "./duration.ts";
import { SOURCE_LENGTH_BOUNDS, familyKey, sourceLimits } from "./source-limits.ts";
import type { Issue } from "./types.ts";
import { renewalCapIssues } from "./renewal-caps.ts";

const ARM_PREFIX = String.raw`^/subscriptions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/resourceGroups/[-\w.()]{0,89}[-\w()]/providers/`;
export const VM_ID_PATTERN = new RegExp(
  `${ARM_PREFIX}Microsoft\\.Compute/virtualMachines/[A-Za-z0-9_][-A-Za-z0-9_.]{0,63}$`,
  "i",
);
export const NSG_ID_PATTERN = new RegExp(
  `${ARM_PREFIX}Microsoft\\.Network/networkSecurityGroups/[A-Za-z0-9][-A-Za-z0-9_.]{0,79}$`,
  "i",
);

export const DEFAULT_PORTS: readonly PolicyPort[] = [22, 3389, 5985, 5986].map((number) => ({
  number,
  protocol: "Any",
  maxDuration: "PT3H",
}));
export const DEFAULT_PRIORITY_RANGE = { from: 100, to: 199 } as const;

/** The spec with the CRD's defaults applied (ports, protocol, maxDuration, priorityRange, nsgScope). */
export function effectivePolicySpec(spec: JitPolicySpec): JitPolicySpec {
  // Objects read from the API server carry the defaults; objects built elsewhere may not.
  const raw = spec as Partial<JitPolicySpec>;
  const ports = raw.ports !== undefined && raw.ports.length > 0 ? raw.ports : DEFAULT_PORTS;
  return {
    targets: raw.targets ?? [],
    ports: ports.map((p) => {
      const port = p as Partial<PolicyPort> & { number: number };
      return { ...port, protocol: port.protocol ?? "TCP", maxDuration: port.maxDuration ?? "PT3H" };
    }),
    priorityRange: raw.priorityRange ?? { ...DEFAULT_PRIORITY_RANGE },
    nsgScope: raw.nsgScope ?? "All",
  };
}

function checkTargetId(value: unknown, field: string, pattern: RegExp, kind: string): Issue | undefined {
  if (typeof value !== "string" || value.length > 512 || !pattern.test(value)) {
    const example = `/subscriptions/<subscription-guid>/resourceGroups/<rg>/providers/${kind}/<name>`;
    return issue(
      "InvalidTarget",
      field,
      `${field} must be an ARM id of the form ${example}, got ${show(value)}`,
    );
  }
  return undefined;
}

function targetIssues(t: unknown, field: string): Issue[] {
  if (!isRecord(t)) return [issue("InvalidTarget", field, `${field} must be an object`)];
  const vm = t["virtualMachineId"];
  const nsg = t["networkSecurityGroupId"];
  const dest = t["destinationAddressPrefixes"];
  if ((vm === undefined) === (nsg === undefined)) {
    const msg = `${field} must set exactly one of virtualMachineId or networkSecurityGroupId`;
    return [issue("InvalidTarget", field, msg)];
  }
  if (vm !== undefined) {
    const out = [
      checkTargetId(vm, `${field}.virtualMachineId`, VM_ID_PATTERN, "Microsoft.Compute/virtualMachines"),
    ];
    if (dest !== undefined) {
      const msg = `${field}.destinationAddressPrefixes must not be set on a virtualMachineId target; its private IPs are used`;
      out.push(issue("InvalidTarget", `${field}.destinationAddressPrefixes`, msg));
    }
    return out.filter((i) => i !== undefined);
  }
  const out: (Issue | undefined)[] = [
    checkTargetId(
      nsg,
      `${field}.networkSecurityGroupId`,
      NSG_ID_PATTERN,
      "Microsoft.Network/networkSecurityGroups",
    ),
  ];
  const dField = `${field}.destinationAddressPrefixes`;
  if (dest === undefined) {
    out.push(
      issue(
        "MissingField",
        dField,
        `${dField} is required for a networkSecurityGroupId target (e.g. ["10.0.2.4/32"])`,
      ),
    );
  } else {
    const arr = checkArray(dest, dField, "InvalidDestinationPrefix", { min: 1, max: 50 });
    out.push(arr);
    if (arr === undefined && Array.isArray(dest)) {
      dest.forEach((d, i) => out.push(checkPrefix(d, `${dField}[${i}]`, "InvalidDestinationPrefix", false)));
      out.push(...duplicateIssues(dest, dField, "InvalidDestinationPrefix"));
    }
  }
  return out.filter((i) => i !== undefined);
}

function targetListIssues(targets: unknown): Issue[] {
  const arr = checkArray(targets, "spec.targets", "InvalidTarget", { min: 1, max: 100 });
  if (arr !== undefined || !Array.isArray(targets)) return arr === undefined ? [] : [arr];
  const out = targets.flatMap((t, i) => targetIssues(t, `spec.targets[${i}]`));
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    if (!isRecord(t)) return;
    const id = t["virtualMachineId"] ?? t["networkSecurityGroupId"];
    if (typeof id !== "string") return;
    const key = id.toLowerCase();
    if (seen.has(key)) {
      const msg = `spec.targets names ${id} twice (entry ${i}; ARM ids compare case-insensitively)`;
      out.push(issue("DuplicateTarget", "spec.targets", msg));
    }
    seen.add(key);
  });
  return out;
}

function portIssues(p: unknown, field: string): Issue[] {
  if (!isRecord(p))
    return [issue("InvalidPort", field, `${field} must be an object with number, protocol, maxDuration`)];
  const out: (Issue | undefined)[] = [
    checkInteger(p["number"], `${field}.number`, "InvalidPort", { min: 1, max: 65535 }),
  ];
  const protocol = p["protocol"];
  if (protocol !== undefined && protocol !== "TCP" && protocol !== "UDP" && protocol !== "Any") {
    out.push(
      issue(
        "InvalidProtocol",
        `${field}.protocol`,
        `${field}.protocol must be TCP, UDP or Any, got ${show(protocol)}`,
      ),
    );
  }
  const allowed = p["allowedSourceAddressPrefixes"];
  if (allowed !== undefined) {
    const aField = `${field}.allowedSourceAddressPrefixes`;
    const arr = checkArray(allowed, aField, "InvalidSourcePrefix", { min: 1, max: 50 });
    out.push(arr);
    if (arr === undefined && Array.isArray(allowed)) {
      allowed.forEach((a, i) => out.push(checkPrefix(a, `${aField}[${i}]`, "InvalidSourcePrefix", true)));
      out.push(...duplicateIssues(allowed, aField, "InvalidSourcePrefix"));
    }
  }
  out.push(...sourceLengthIssues(p, field));
  if (p["maxDuration"] !== undefined) {
    const bounds = {
      minMs: DURATION_BOUNDS.policyMaxMinMs,
      maxMs: DURATION_BOUNDS.policyMaxMaxMs,
      tooShort: "InvalidDuration",
      tooLong: "InvalidDuration",
    };
    out.push(checkDuration(p["maxDuration"], `${field}.maxDuration`, bounds).issue);
  }
  return out.filter((i) => i !== undefined);
}

const LENGTH_FIELDS = ["minimumSourcePrefixLength", "sourceUnionPrefixLength"] as const;

/** One { ipv4?, ipv6? } object of prefix lengths, each within its family's bounds. */
function lengthObjectIssues(value: unknown, field: string): Issue[] {
  if (value === undefined) return [];
  if (!isRecord(value) || (value["ipv4"] === undefined && value["ipv6"] === undefined)) {
    const msg = `${field} must be an object with ipv4 (8..32) and/or ipv6 (16..128), got ${show(value)}`;
    return [issue("InvalidSourcePrefixLength", field, msg)];
  }
  const out: Issue[] = [];
  for (const family of ["IPv4", "IPv6"] as const) {
    const key = familyKey(family);
    if (value[key] === undefined) continue;
    const { widest, narrowest } = SOURCE_LENGTH_BOUNDS[family];
    const bad = checkInteger(value[key], `${field}.${key}`, "InvalidSourcePrefixLength", {
      min: widest,
      max: narrowest,
    });
    if (bad !== undefined) out.push(bad);
  }
  return out;
}

/**
 * The port's source limits: each within bounds (never /0: wildcards keep their own explicit rule),
 * and the union no narrower than one request of the minimum length (or no request could fit).
 */
function sourceLengthIssues(p: Record<string, unknown>, field: string): Issue[] {
  const out = LENGTH_FIELDS.flatMap((f) => lengthObjectIssues(p[f], `${field}.${f}`));
  if (out.length > 0) return out;
  const port = p as unknown as PolicyPort;
  for (const family of ["IPv4", "IPv6"] as const) {
    const key = familyKey(family);
    const union = port.sourceUnionPrefixLength?.[key];
    const { minimum } = sourceLimits(port, family);
    if (union !== undefined && union > minimum) {
      const uField = `${field}.sourceUnionPrefixLength.${key}`;
      const msg =
        `${uField} (${union}) must be at most the port's minimumSourcePrefixLength.${key} (${minimum}): ` +
        `the grants on one rule must together be allowed at least one prefix of the minimum length`;
      out.push(issue("InvalidSourcePrefixLength", uField, msg));
    }
  }
  return out;
}

function portListIssues(ports: unknown): Issue[] {
  if (ports === undefined) return [];
  const arr = checkArray(ports, "spec.ports", "InvalidPort", { min: 1, max: 32 });
  if (arr !== undefined || !Array.isArray(ports)) return arr === undefined ? [] : [arr];
  const out = ports.flatMap((p, i) => portIssues(p, `spec.ports[${i}]`));
  const byNumber = new Map<unknown, unknown[]>();
  ports.forEach((p, i) => {
    if (!isRecord(p)) return;
    const protocol = p["protocol"] ?? "TCP";
    const seen = byNumber.get(p["number"]) ?? [];
    if (seen.includes(protocol)) {
      out.push(
        issue(
          "DuplicatePort",
          `spec.ports[${i}]`,
          `spec.ports[${i}] lists ${show(p["number"])}/${show(protocol)} twice`,
        ),
      );
    } else if (seen.length > 0 && (protocol === "Any" || seen.includes("Any"))) {
      const msg = `spec.ports lists port ${show(p["number"])} with Any and again with TCP or UDP (Any covers both)`;
      out.push(issue("DuplicatePort", "spec.ports", msg));
    }
    byNumber.set(p["number"], [...seen, protocol]);
  });
  return out;
}

function priorityRangeIssues(range: unknown): Issue[] {
  if (range === undefined) return [];
  const field = "spec.priorityRange";
  if (!isRecord(range))
    return [issue("InvalidPriorityRange", field, `${field} must be an object with from and to`)];
  const limits = { min: 100, max: 4096 };
  const out = [
    checkInteger(range["from"], `${field}.from`, "InvalidPriorityRange", limits),
    checkInteger(range["to"], `${field}.to`, "InvalidPriorityRange", limits),
  ].filter((i) => i !== undefined);
  if (out.length === 0 && (range["from"] as number) > (range["to"] as number)) {
    const msg = `${field}.to (${show(range["to"])}) must be greater than or equal to ${field}.from (${show(range["from"])})`;
    out.push(issue("InvalidPriorityRange", `${field}.to`, msg));
  }
  return out;
}

function nsgScopeIssues(scope: unknown): Issue[] {
  if (scope === undefined || scope === "All" || scope === "NetworkInterface" || scope === "Subnet") return [];
  return [
    issue(
      "InvalidNsgScope",
      "spec.nsgScope",
      `spec.nsgScope must be All, NetworkInterface or Subnet, got ${show(scope)}`,
    ),
  ];
}

/**
 * The band must hold one target's rules in an NSG: an allow per port entry plus a deny per protocol.
 * Admission cannot count this; the operator refuses such a policy rather than half-apply it.
 */
function bandSizeIssues(spec: JitPolicySpec): Issue[] {
  const eff = effectivePolicySpec(spec);
  const needed = eff.ports.length + new Set(eff.ports.map((p) => p.protocol)).size;
  const size = eff.priorityRange.to - eff.priorityRange.from + 1;
  if (size >= needed) return [];
  const { from, to } = eff.priorityRange;
  const msg =
    `spec.priorityRange ${from}..${to} holds ${size} priorities, but each target needs ${needed} ` +
    `(${eff.ports.length} allow rules, one per port, and one baseline deny per protocol)`;
  return [issue("PriorityBandTooSmall", "spec.priorityRange", msg)];
}

/** Every issue of a JitPolicy spec; fields the CRD defaults may be absent. Empty means valid. */
export function validatePolicySpec(spec: unknown): Issue[] {
  if (!isRecord(spec)) return [issue("MissingField", "spec", "spec is required and must be an object")];
  const shape = [
    ...targetListIssues(spec["targets"]),
    ...portListIssues(spec["ports"]),
    ...priorityRangeIssues(spec["priorityRange"]),
    ...nsgScopeIssues(spec["nsgScope"]),
    ...renewalCapIssues(spec),
    ...approvalSpecIssues(spec),
  ];
  return shape.length > 0 ? shape : bandSizeIssues(spec as unknown as JitPolicySpec);
}
