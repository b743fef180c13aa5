// The demo's choice of admission objects from a rendered chart, and the example documents it derives
// its refusals from.
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { parse } from "yaml";
import type { Manifest } from "../../../src/helm/template.ts";
import { admissionObjects, scopeIndexRef } from "../../../src/demo/admission.ts";
import { forgedRequest, otherTeamPolicy } from "../../../src/demo/stack.ts";

const ROOT = join(import.meta.dirname, "..", "..", "..");

function obj(kind: string, name: string, spec?: Record<string, unknown>): Manifest {
  return { apiVersion: "v1", kind, metadata: { name }, ...(spec === undefined ? {} : { spec }) };
}

const policy = (name: string): Manifest => obj("ValidatingAdmissionPolicy", name, { validations: [] });
const binding = (name: string, policyName: string): Manifest =>
  obj("ValidatingAdmissionPolicyBinding", name, { policyName, validationActions: ["Deny"] });

describe("admissionObjects", () => {
  it("keeps every policy and binding, unchanged, and nothing else", () => {
    const rendered = [
      obj("Deployment", "drawbridge"),
      policy("a"),
      binding("a", "a"),
      obj("ClusterRole", "drawbridge-requester"),
      policy("b"),
      binding("b", "b"),
    ];
    expect(admissionObjects(rendered)).toEqual([rendered[1], rendered[2], rendered[4], rendered[5]]);
  });

  it("refuses a rendering without policies", () => {
    expect(() => admissionObjects([obj("Deployment", "drawbridge")])).toThrow(
      /no ValidatingAdmissionPolicy;/,
    );
  });

  it("refuses a policy nothing binds and a binding of a policy not rendered", () => {
    expect(() => admissionObjects([policy("a"), binding("a", "a"), policy("b")])).toThrow(
      /ValidatingAdmissionPolicy b: the chart rendered no binding/,
    );
    expect(() => admissionObjects([policy("a"), binding("a", "a"), binding("x", "gone")])).toThrow(
      /PolicyBinding x: spec.policyName "gone" names no policy/,
    );
  });
});

describe("scopeIndexRef", () => {
  const withParam = (name: string): Manifest =>
    obj("ValidatingAdmissionPolicy", name, {
      paramKind: { apiVersion: "jit.drawbridge.dev/v1alpha1", kind: "JitScopeIndex" },
    });
  const bindingOf = (name: string, ref: { name: string; namespace: string }): Manifest =>
    obj("ValidatingAdmissionPolicyBinding", name, { policyName: name, paramRef: ref });

  it("is the JitScopeIndex the scope binding reads", () => {
    const ref = { name: "drawbridge-scope-index", namespace: "drawbridge-system" };
    expect(scopeIndexRef([policy("a"), binding("a", "a"), withParam("s"), bindingOf("s", ref)])).toEqual(ref);
  });

  it("is undefined when no policy takes a JitScopeIndex", () => {
    expect(scopeIndexRef([policy("a"), binding("a", "a")])).toBeUndefined();
  });

  it("refuses an index outside the operator's namespace", () => {
    const ref = { name: "drawbridge-scope-index", namespace: "elsewhere" };
    expect(() => scopeIndexRef([withParam("s"), bindingOf("s", ref)])).toThrow(
      /elsewhere\/drawbridge-scope-index/,
    );
  });
});

describe("the demo's refusal probes", () => {
  it("forge examples/request.yaml in bob's name and nothing else", () => {
    const doc = parse(forgedRequest(ROOT)) as { spec: Record<string, unknown> };
    expect(doc.spec.requester).toBe("bob");
    expect(doc.spec.policyName).toBe("web-admin");
  });

  it("move examples/policy.yaml into team-b, targets unchanged", () => {
    const doc = parse(otherTeamPolicy(ROOT)) as {
      metadata: { namespace: string };
      spec: { targets: unknown[] };
    };
    expect(doc.metadata.namespace).toBe("team-b");
    expect(JSON.stringify(doc.spec.targets)).toContain("/virtualMachines/web-1");
  });
});
