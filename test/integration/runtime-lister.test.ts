// The custom-resource lister against the real API server: a list larger than one page reaches the
// informer whole (the raw JSON's `continue` token must be followed, or objects past the first page
// would be dropped and their grants revoked).
import { describe, expect, jest, test } from "@jest/globals";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { testCluster } from "../support/cluster.ts";
import { systemClock } from "../../src/runtime/clock.ts";
import { createInformer } from "../../src/runtime/informer.ts";
import { customResourceListFn, customResourceSource } from "../../src/runtime/lister.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { API_GROUP, API_VERSION, ACCESSREQUEST_PLURAL } from "../../src/api/types.ts";
import type { AccessRequest } from "../../src/api/types.ts";
import type { KubernetesObject } from "@kubernetes/client-node";

jest.setTimeout(90_000);

function request(name: string): AccessRequest {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: "AccessRequest",
    metadata: { name },
    spec: {
      policyName: "web-admin",
      ports: [22],
      sourceAddressPrefix: "203.0.113.7/32",
      duration: "PT1H",
      justification: "paging test",
      requester: "alice",
    },
  };
}

describe("custom-resource lister", () => {
  test("follows continue tokens across pages", async () => {
    const cluster = testCluster();
    const namespace = await cluster.createNamespace("lister");
    const kc = cluster.kubeConfig("admin");
    const api = kc.makeApiClient(CustomObjectsApi);
    const resource = { group: API_GROUP, version: API_VERSION, plural: ACCESSREQUEST_PLURAL, namespace };
    const names = Array.from({ length: 7 }, (_, i) => `r${i}`);
    for (const name of names) {
      await api.createNamespacedCustomObject({ ...resource, body: request(name) });
    }

    const first = await customResourceListFn<KubernetesObject>(
      kc,
      resource,
    )({ limit: 3, continue: undefined });
    expect(first.items).toHaveLength(3);
    const meta: { _continue?: string; continue?: string } | undefined = first.metadata;
    expect(meta?.continue ?? meta?._continue).toBeTruthy();

    const informer = createInformer<KubernetesObject>({
      ...customResourceSource<KubernetesObject>(kc, resource),
      logger: createLogger("silent"),
      clock: systemClock,
      pageSize: 3,
      relistIntervalMs: 0,
    });
    try {
      await informer.start();
      expect(
        informer
          .list()
          .map((o) => o.metadata?.name ?? "")
          .sort(),
      ).toEqual(names);
    } finally {
      informer.stop();
    }
  });
});
