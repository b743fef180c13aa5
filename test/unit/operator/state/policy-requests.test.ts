// The requests-by-policy index follows the request informer (adds, a changed spec.policyName,
// deletions, namespaces kept apart), so a policy event marks its requests without a scan of the
// whole request cache (which cost ~47 ms per event at 100,000 requests).
import { describe, expect, it } from "@jest/globals";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { AccessRequest } from "../../../../src/api/types.ts";
import { policyKeyOf } from "../../../../src/core/keys.ts";
import { informerCaches } from "../../../../src/operator/state/caches.ts";
import { PolicyRequestIndex } from "../../../../src/operator/state/policy-requests.ts";
import { MemoryInformer } from "../../../support/memory-kube.ts";

function req(namespace: string, name: string, policyName: string): AccessRequest {
  return {
    metadata: { namespace, name },
    spec: { policyName, ports: [22], sourceAddressPrefix: "198.18.0.1/32", duration: "PT1H" },
  } as unknown as AccessRequest;
}

describe("PolicyRequestIndex", () => {
  it("files each request under its policy's key, per namespace", () => {
    const ix = new PolicyRequestIndex();
    ix.update(req("a", "r1", "p"), false);
    ix.update(req("a", "r2", "p"), false);
    ix.update(req("a", "r3", "q"), false);
    ix.update(req("b", "r1", "p"), false);
    expect(ix.requestsOf(policyKeyOf(req("a", "x", "p"))).sort()).toEqual(["a/r1", "a/r2"]);
    expect(ix.requestsOf("a/q")).toEqual(["a/r3"]);
    expect(ix.requestsOf("b/p")).toEqual(["b/r1"]);
    expect(ix.requestsOf("b/q")).toEqual([]);
    expect(ix.size).toBe(4);
  });

  it("moves a request whose policy changed, drops deleted ones, and skips one without a spec", () => {
    const ix = new PolicyRequestIndex();
    ix.update(req("a", "r1", "p"), false);
    ix.update(req("a", "r1", "q"), false);
    expect(ix.requestsOf("a/p")).toEqual([]);
    expect(ix.requestsOf("a/q")).toEqual(["a/r1"]);
    ix.update(req("a", "r1", "q"), true);
    expect(ix.requestsOf("a/q")).toEqual([]);
    ix.update({ metadata: { namespace: "a", name: "bare" } } as unknown as AccessRequest, false);
    expect(ix.size).toBe(0);
  });
});

describe("informerCaches.requestsOf", () => {
  it("follows the request informer: objects there before, added, changed and deleted", () => {
    const policies = new MemoryInformer();
    const requests = new MemoryInformer();
    const obj = (r: AccessRequest): KubernetesObject => r as unknown as KubernetesObject;
    requests.put(obj(req("a", "r1", "p")));
    const caches = informerCaches(policies, requests);
    expect(caches.requestsOf("a/p")).toEqual(["a/r1"]);
    requests.put(obj(req("a", "r2", "p")));
    expect(caches.requestsOf("a/p").sort()).toEqual(["a/r1", "a/r2"]);
    requests.put(obj(req("a", "r1", "q")));
    requests.remove("a", "r2");
    expect(caches.requestsOf("a/p")).toEqual([]);
    expect(caches.requestsOf("a/q")).toEqual(["a/r1"]);
  });
});
