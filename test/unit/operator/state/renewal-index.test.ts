// The renewal index follows the request informer: adds, a changed or dropped spec.supersedes,
// deletions, and namespaces kept apart.
import { describe, expect, it } from "@jest/globals";
import type { AccessRequest } from "../../../../src/api/types.ts";
import type { KubernetesObject } from "@kubernetes/client-node";
import { informerCaches } from "../../../../src/operator/state/caches.ts";
import { RenewalIndex } from "../../../../src/operator/state/renewal-index.ts";
import { MemoryInformer } from "../../../support/memory-kube.ts";

function req(namespace: string, name: string, supersedes?: string): AccessRequest {
  return {
    metadata: { namespace, name },
    spec: {
      policyName: "p",
      ports: [22],
      sourceAddressPrefix: "198.18.0.1/32",
      duration: "PT1H",
      supersedes,
    },
  } as unknown as AccessRequest;
}

describe("RenewalIndex", () => {
  it("files a renewal under the request it names, per namespace", () => {
    const ix = new RenewalIndex();
    ix.update(req("a", "r1"), false);
    ix.update(req("a", "r2", "r1"), false);
    ix.update(req("a", "r3", "r1"), false);
    ix.update(req("b", "r2", "r1"), false);
    expect(ix.renewalsOf("a", "r1").sort()).toEqual(["a/r2", "a/r3"]);
    expect(ix.renewalsOf("b", "r1")).toEqual(["b/r2"]);
    expect(ix.renewalsOf("a", "r2")).toEqual([]);
    expect(ix.size).toBe(3);
  });

  it("moves a renewal whose supersedes changed and drops deleted ones", () => {
    const ix = new RenewalIndex();
    ix.update(req("a", "r2", "r1"), false);
    ix.update(req("a", "r2", "r0"), false);
    expect(ix.renewalsOf("a", "r1")).toEqual([]);
    expect(ix.renewalsOf("a", "r0")).toEqual(["a/r2"]);
    ix.update(req("a", "r2"), false);
    expect(ix.renewalsOf("a", "r0")).toEqual([]);
    ix.update(req("a", "r3", "r1"), false);
    ix.update(req("a", "r3", "r1"), true);
    expect(ix.renewalsOf("a", "r1")).toEqual([]);
    expect(ix.size).toBe(0);
  });
});

describe("informerCaches.renewalsOf", () => {
  it("follows the request informer: objects there before, added, changed and deleted", () => {
    const policies = new MemoryInformer();
    const requests = new MemoryInformer();
    const obj = (r: AccessRequest): KubernetesObject => r as unknown as KubernetesObject;
    requests.put(obj(req("a", "r2", "r1")));
    const caches = informerCaches(policies, requests);
    const names = (): string[] => caches.renewalsOf("a", "r1").map((r) => r.metadata.name ?? "");
    expect(names()).toEqual(["r2"]);
    requests.put(obj(req("a", "r3", "r1")));
    expect(names().sort()).toEqual(["r2", "r3"]);
    requests.put(obj(req("a", "r2")));
    requests.remove("a", "r3");
    expect(names()).toEqual([]);
  });
});
