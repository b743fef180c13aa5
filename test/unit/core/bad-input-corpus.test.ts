// Runs every case of the bad-input corpus (test/fixtures/bad-input/cases.yaml) and the valid
// fixtures through the pure validator. Admission-stage cases must be refused here too (defence in
// depth) naming the same field; semantic cases must be denied with the named reason and field.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { parse, parseAllDocuments } from "yaml";
import type { AccessRequest, JitPolicy, JitPolicySpec } from "../../../src/api/types.ts";
import { validatePolicySpec, validateRequest, validateRequestSpec } from "../../../src/core/index.ts";
import type { Issue } from "../../../src/core/index.ts";

const dir = new URL("../../fixtures/", import.meta.url);
const NS = "team-a";

interface Case {
  name: string;
  stage: "admission" | "semantic";
  field: string;
  reason?: string;
  policy?: JitPolicySpec;
  object: { kind: "JitPolicy" | "AccessRequest"; metadata: { name: string }; spec: unknown };
}

const cases = parse(readFileSync(new URL("bad-input/cases.yaml", dir), "utf8")) as Case[];
const vocabulary = new Set(
  (parse(readFileSync(new URL("bad-input/reasons.yaml", dir), "utf8")) as { name: string }[]).map(
    (r) => r.name,
  ),
);
const validPolicies = parseAllDocuments(readFileSync(new URL("valid/policies.yaml", dir), "utf8")).map(
  (d) => d.toJS() as JitPolicy,
);
const validRequests = parseAllDocuments(readFileSync(new URL("valid/requests.yaml", dir), "utf8")).map(
  (d) => d.toJS() as AccessRequest,
);
const examplePolicy = validPolicies.find((p) => p.metadata.name === "web-admin");

function request(c: Case): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { name: c.object.metadata.name, namespace: NS },
    spec: c.object.spec as AccessRequest["spec"],
  };
}

function policyNamed(name: string, spec: JitPolicySpec): JitPolicy {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "JitPolicy",
    metadata: { name, namespace: NS },
    spec,
  };
}

function expectKnownReasons(issues: Issue[]): void {
  for (const i of issues) expect(vocabulary).toContain(i.reason);
}

describe("bad-input corpus", () => {
  it("has at least 40 cases, each naming a field, semantic ones a known reason", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const c of cases) {
      expect(c.field).toMatch(/^spec/);
      if (c.stage === "semantic") expect(vocabulary).toContain(c.reason);
    }
  });

  const admission = cases.filter((c) => c.stage === "admission");
  it.each(admission.map((c) => [c.name, c] as const))(
    "refuses admission case %s naming its field",
    (_n, c) => {
      const issues =
        c.object.kind === "JitPolicy"
          ? validatePolicySpec(c.object.spec)
          : validateRequestSpec(c.object.spec);
      expectKnownReasons(issues);
      expect(issues.map((i) => i.field)).toContain(c.field);
      const named = issues.find((i) => i.field === c.field);
      expect(named?.message).toContain(c.field);
      if (c.object.kind === "AccessRequest") {
        const verdict = validateRequest(request(c), examplePolicy);
        expect(verdict.allowed).toBe(false);
      }
    },
  );

  const semantic = cases.filter((c) => c.stage === "semantic");
  it.each(semantic.map((c) => [c.name, c] as const))(
    "denies semantic case %s with its reason and field",
    (_n, c) => {
      let first: Issue | undefined;
      if (c.object.kind === "JitPolicy") {
        expect(validateRequestSpec({})).not.toHaveLength(0);
        const issues = validatePolicySpec(c.object.spec);
        expectKnownReasons(issues);
        first = issues[0];
      } else {
        const req = request(c);
        expect(validateRequestSpec(req.spec)).toEqual([]);
        const policy = c.policy === undefined ? undefined : policyNamed(req.spec.policyName, c.policy);
        if (policy !== undefined) expect(validatePolicySpec(policy.spec)).toEqual([]);
        const verdict = validateRequest(req, policy);
        if (verdict.allowed) throw new Error(`${c.name} was allowed`);
        expectKnownReasons(verdict.issues);
        first = verdict;
      }
      expect({ reason: first?.reason, field: first?.field }).toEqual({ reason: c.reason, field: c.field });
      expect(first?.message).toContain(c.field);
    },
  );
});

describe("valid fixtures", () => {
  it.each(validPolicies.map((p) => [p.metadata.name, p] as const))("accepts policy %s", (_n, p) => {
    expect(validatePolicySpec(p.spec)).toEqual([]);
  });

  it.each(validRequests.map((r) => [r.metadata.name, r] as const))(
    "allows request %s under its policy",
    (_n, r) => {
      const p = validPolicies.find((x) => x.metadata.name === r.spec.policyName);
      expect(p).toBeDefined();
      const verdict = validateRequest(
        { ...r, metadata: { ...r.metadata, namespace: NS } },
        p === undefined ? undefined : { ...p, metadata: { ...p.metadata, namespace: NS } },
      );
      expect(verdict).toEqual({ allowed: true });
    },
  );
});
