// The informer's cache (src/runtime/object-store.ts): objects by namespace and name, cluster-scoped
// ones under "", a count that follows adds, replacements and deletions.
import { describe, expect, test } from "@jest/globals";
import type { KubernetesObject } from "@kubernetes/client-node";
import { ObjectStore } from "../../../src/runtime/object-store.ts";

/** An object as the informer caches it: parsed JSON, not client-node's classes. */
function obj(namespace: string | undefined, name: string, rv = "1"): KubernetesObject {
  const parsed: unknown = JSON.parse(JSON.stringify({ metadata: { namespace, name, resourceVersion: rv } }));
  return parsed as KubernetesObject;
}

describe("ObjectStore", () => {
  test("finds, replaces and forgets objects by namespace and name", () => {
    const store = new ObjectStore<KubernetesObject>();
    store.set(obj("a", "x"));
    store.set(obj("b", "x"));
    store.set(obj(undefined, "x"));
    expect(store.size).toBe(3);
    expect(store.get("a", "x")?.metadata?.namespace).toBe("a");
    expect(store.get(undefined, "x")?.metadata?.namespace).toBeUndefined();
    expect(store.get("", "x")).toBe(store.get(undefined, "x"));
    store.set(obj("a", "x", "2"));
    expect(store.size).toBe(3);
    expect(store.find(obj("a", "x"))?.metadata?.resourceVersion).toBe("2");
    store.delete(obj("a", "x"));
    store.delete(obj("a", "missing"));
    expect(store.size).toBe(2);
    expect(store.get("a", "x")).toBeUndefined();
    expect(
      store
        .list()
        .map((o) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`)
        .sort(),
    ).toEqual(["/x", "b/x"]);
  });

  test("list is a copy: changing the store while reading it is safe", () => {
    const store = new ObjectStore<KubernetesObject>();
    for (const n of ["p", "q", "r"]) store.set(obj("a", n));
    for (const o of store.list()) store.delete(o);
    expect(store.size).toBe(0);
    expect(store.list()).toEqual([]);
  });
});
