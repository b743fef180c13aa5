// Request validation as an ordered list of named checks (as cert-manager's policies.Chain): the first
// issue of the first failing check is the verdict's reason, so precedence is the order of
// REQUEST_CHECKS. The checks themselves are in validate-request.ts.
import type { AccessRequest, JitPolicy } from "../api/types.ts";
import { justificationIssue } from "./approval-justification.ts";
import { checkDuration, issue } from "./checks.ts";
import type { Issue } from "./types.ts";
import { effectivePolicySpec, validatePolicySpec } from "./validate-policy.ts";
import {
  REQUEST_DURATION,
  durationIssue,
  familyIssue,
  policyLabel,
  portEntries,
  requestShapeIssues,
  sourceIssue,
} from "./validate-request.ts";

/** What a request check reads: the request and the policy it names, if the cache has it. */
export interface RequestCheckInput {
  request: AccessRequest;
  policy: JitPolicy | undefined;
}

/** One named check of a request; `stops` means the checks after it are meaningless when it fails. */
export interface RequestCheck {
  name: string;
  stops: boolean;
  check(input: RequestCheckInput): Issue[];
}

/**
 * Request validation as data (as cert-manager's policies.Chain): the checks in order, and the first
 * issue of the first failing one is the verdict's reason. The shape comes first (it makes the rest
 * meaningless), then the policy's existence and validity, then targets, ports with their sources and
 * durations, and the address family; the last three report all their issues.
 */
export const REQUEST_CHECKS: readonly RequestCheck[] = [
  { name: "Shape", stops: true, check: ({ request }) => requestShapeIssues(request.spec) },
  { name: "PolicyExists", stops: true, check: policyExistsIssues },
  { name: "PolicyValid", stops: true, check: policyValidIssues },
  { name: "TargetsInPolicy", stops: false, check: withPolicy(targetsInPolicyIssues) },
  { name: "PortsSourcesDurations", stops: false, check: withPolicy(portSourceDurationIssues) },
  { name: "AddressFamily", stops: false, check: withPolicy(addressFamilyIssues) },
  // The admission policy cannot read the policy's justification rule, so it is checked here.
  { name: "Justification", stops: false, check: withPolicy(justificationRuleIssues) },
];

/** The issues of the checks in order, up to and including the first failing check that stops. */
export function runRequestChecks(checks: readonly RequestCheck[], input: RequestCheckInput): Issue[] {
  const out: Issue[] = [];
  for (const c of checks) {
    const issues = c.check(input);
    out.push(...issues);
    if (issues.length > 0 && c.stops) break;
  }
  return out;
}

function policyExistsIssues({ request, policy }: RequestCheckInput): Issue[] {
  const spec = request.spec;
  const ns = request.metadata.namespace;
  if (policy !== undefined && policy.metadata.namespace === ns && policy.metadata.name === spec.policyName)
    return [];
  const msg = `spec.policyName: JitPolicy ${spec.policyName} does not exist in namespace ${ns ?? "<none>"}`;
  return [issue("PolicyNotFound", "spec.policyName", msg)];
}

/**
 * Per policy spec object: its issues and its target ids (lower case). A policy is checked for each
 * of its requests, and at start-up that is every request: 10,000 requests of 100-target policies
 * re-validated 100 regexps each. Objects from the caches are replaced on change, so the spec object
 * is the key (a WeakMap lets a replaced spec go with its entry); its top-level fields are kept too
 * and compared by identity, so a caller that reassigns a field of the same object is not answered
 * from the memo.
 */
interface SpecMemo<T> {
  fields: unknown[];
  value: T;
}

function memoOf<T>(memo: WeakMap<object, SpecMemo<T>>, spec: object, compute: () => T): T {
  const fields = Object.values(spec);
  const hit = memo.get(spec);
  if (hit !== undefined && hit.fields.length === fields.length && hit.fields.every((f, i) => f === fields[i]))
    return hit.value;
  const value = compute();
  memo.set(spec, { fields, value });
  return value;
}

const POLICY_ISSUES = new WeakMap<object, SpecMemo<Issue[]>>();
const POLICY_TARGETS = new WeakMap<object, SpecMemo<Set<string>>>();

/**
 * validatePolicySpec of a cached policy, once per spec object (and its top-level fields): every
 * request of a policy asks it, and start-up asks for all of them at once (10,000 requests of 100-target
 * policies spent 5 s here in one go, long enough to miss a Lease renewal).
 */
export function policySpecIssues(policy: JitPolicy): Issue[] {
  return memoOf(POLICY_ISSUES, policy.spec, () => validatePolicySpec(policy.spec));
}

function policyTargetIds(policy: JitPolicy): Set<string> {
  return memoOf(
    POLICY_TARGETS,
    policy.spec,
    () =>
      new Set(
        effectivePolicySpec(policy.spec).targets.map((t) =>
          (t.virtualMachineId ?? t.networkSecurityGroupId ?? "").toLowerCase(),
        ),
      ),
  );
}

function policyValidIssues({ request, policy }: RequestCheckInput): Issue[] {
  const policyIssues = policy === undefined ? [] : policySpecIssues(policy);
  if (policyIssues.length === 0) return [];
  const first = policyIssues[0];
  const msg = `spec.policyName: JitPolicy ${request.spec.policyName} is invalid (${first?.message ?? ""})`;
  return [issue("PolicyInvalid", "spec.policyName", msg)];
}

/** The checks after PolicyExists run only with a policy (PolicyExists stops the chain without one). */
function withPolicy(
  check: (request: AccessRequest, policy: JitPolicy) => Issue[],
): (input: RequestCheckInput) => Issue[] {
  return ({ request, policy }) => (policy === undefined ? [] : check(request, policy));
}

function targetsInPolicyIssues(request: AccessRequest, policy: JitPolicy): Issue[] {
  const name = policyLabel(policy);
  const out: Issue[] = [];
  const targetIds = policyTargetIds(policy);
  (request.spec.targets ?? []).forEach((t, i) => {
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
  return out;
}

function portSourceDurationIssues(request: AccessRequest, policy: JitPolicy): Issue[] {
  const spec = request.spec;
  const name = policyLabel(policy);
  const out: Issue[] = [];
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
  return out;
}

function addressFamilyIssues(request: AccessRequest, policy: JitPolicy): Issue[] {
  const family = familyIssue(request.spec.sourceAddressPrefix, policy, request.spec.targets);
  return family === undefined ? [] : [family];
}

function justificationRuleIssues(request: AccessRequest, policy: JitPolicy): Issue[] {
  const why = justificationIssue(request.spec.justification, policy.spec.justification, policyLabel(policy));
  return why === undefined ? [] : [why];
}
