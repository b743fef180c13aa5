// The Kubernetes writes the reconcilers make, behind a small interface so unit tests of the
// reconcilers can use an in-memory fake: status merge-patches on the /status subresource, finalizer
// patches guarded by resourceVersion, deletes, and core/v1 Events; and the one read that confirms
// a write whose outcome is unknown (ADR 0021), from the API server rather than a cache.
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import type { ObjectMeta } from "../api/types.ts";
import { ACCESSREQUEST_PLURAL, API_GROUP, API_VERSION, JITPOLICY_PLURAL } from "../api/types.ts";

export type Kind = "JitPolicy" | "AccessRequest";

export interface EventInput {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  /** When it happened (the Event's timestamps); the time of the write when absent. */
  at?: Date;
}

/** The object as the API server stored it after a write (plain JSON). */
export type Written = KubernetesObject;

export interface KubeWriter {
  patchStatus(kind: Kind, meta: ObjectMeta, status: object): Promise<Written>;
  /**
   * patchStatus with the status composed when the write is sent (after any wait for a write slot),
   * so it can say what is true by then rather than when it was queued.
   */
  patchStatusFrom(kind: Kind, meta: ObjectMeta, compose: () => object): Promise<Written>;
  /** Replace metadata.finalizers, failing with a conflict when the object changed since meta was read. */
  setFinalizers(kind: Kind, meta: ObjectMeta, finalizers: string[]): Promise<Written>;
  deleteObject(kind: Kind, meta: ObjectMeta): Promise<void>;
  event(kind: Kind, meta: ObjectMeta, e: EventInput): Promise<void>;
  /**
   * The object as the API server holds it now (a GET, not a cache; undefined once it is gone): what
   * a write whose reply was lost actually did.
   */
  getObject(kind: Kind, meta: ObjectMeta): Promise<Written | undefined>;
}

function plural(kind: Kind): string {
  return kind === "JitPolicy" ? JITPOLICY_PLURAL : ACCESSREQUEST_PLURAL;
}

/** 404 on a write means the object is gone: nothing left to do. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

export function createKubeWriter(kc: KubeConfig, component = "drawbridge"): KubeWriter {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  const ref = (kind: Kind, meta: ObjectMeta): { namespace: string; name: string } => ({
    namespace: meta.namespace ?? "",
    name: meta.name ?? "",
  });
  const patchStatus = async (kind: Kind, meta: ObjectMeta, status: object): Promise<Written> =>
    (await custom.patchNamespacedCustomObjectStatus(
      {
        group: API_GROUP,
        version: API_VERSION,
        plural: plural(kind),
        ...ref(kind, meta),
        body: { status },
      },
      merge,
    )) as Written;
  return {
    patchStatus,
    patchStatusFrom: (kind, meta, compose): Promise<Written> => patchStatus(kind, meta, compose()),
    async setFinalizers(kind, meta, finalizers): Promise<Written> {
      const body = { metadata: { finalizers, resourceVersion: meta.resourceVersion } };
      return (await custom.patchNamespacedCustomObject(
        { group: API_GROUP, version: API_VERSION, plural: plural(kind), ...ref(kind, meta), body },
        merge,
      )) as Written;
    },
    async deleteObject(kind, meta): Promise<void> {
      try {
        await custom.deleteNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          plural: plural(kind),
          ...ref(kind, meta),
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    async getObject(kind, meta): Promise<Written | undefined> {
      try {
        return (await custom.getNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          plural: plural(kind),
          ...ref(kind, meta),
        })) as Written;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async event(kind, meta, e): Promise<void> {
      const now = e.at ?? new Date();
      const { namespace, name } = ref(kind, meta);
      // The generated model classes are plain data shapes; a literal carries the same fields.
      /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment */
      await core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${name}.${randomBytes(8).toString("hex")}`, namespace },
          involvedObject: {
            apiVersion: `${API_GROUP}/${API_VERSION}`,
            kind,
            namespace,
            name,
            uid: meta.uid,
            resourceVersion: meta.resourceVersion,
          },
          type: e.type,
          reason: e.reason,
          message: e.message.slice(0, 1024),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          source: { component },
          reportingComponent: component,
          reportingInstance: component,
        },
      });
      /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
    },
  };
}
