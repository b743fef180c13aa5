// The three Lease calls leader election needs, behind a small interface so the elector's logic can
// be unit-tested against an in-memory store and run against the API server unchanged.
import { CoordinationV1Api, V1MicroTime } from "@kubernetes/client-node";
import type { KubeConfig, V1Lease } from "@kubernetes/client-node";

export interface LeaseRecord {
  holderIdentity: string | undefined;
  leaseDurationSeconds: number;
  acquireTime: Date | undefined;
  renewTime: Date | undefined;
  leaseTransitions: number;
  /** Guards updates: a replace with a stale resourceVersion fails with LeaseConflictError. */
  resourceVersion: string;
}

/** Someone else changed or created the Lease first (HTTP 409). */
export class LeaseConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LeaseConflictError";
  }
}

export interface LeaseClient {
  /** The Lease, or undefined when it does not exist. */
  get(): Promise<LeaseRecord | undefined>;
  create(record: Omit<LeaseRecord, "resourceVersion">): Promise<LeaseRecord>;
  /** Replace guarded by record.resourceVersion. */
  update(record: LeaseRecord): Promise<LeaseRecord>;
}

function codeOf(err: unknown): number | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === "number" ? c : undefined;
}

function toDate(v: unknown): Date | undefined {
  if (v === undefined || v === null) return undefined;
  const d = new Date(v as string | Date);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- the generated model
   classes are plain JSON shapes; the API client serializes object literals the same way. */
function fromLease(l: V1Lease): LeaseRecord {
  const s = l.spec ?? {};
  return {
    holderIdentity: s.holderIdentity === "" ? undefined : s.holderIdentity,
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: toDate(s.acquireTime),
    renewTime: toDate(s.renewTime),
    leaseTransitions: s.leaseTransitions ?? 0,
    resourceVersion: l.metadata?.resourceVersion ?? "",
  };
}

function micro(d: Date | undefined): V1MicroTime | undefined {
  return d === undefined ? undefined : new V1MicroTime(d.getTime());
}

function toLease(
  namespace: string,
  name: string,
  r: Omit<LeaseRecord, "resourceVersion">,
  rv?: string,
): V1Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace, ...(rv === undefined ? {} : { resourceVersion: rv }) },
    spec: {
      holderIdentity: r.holderIdentity ?? "",
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: micro(r.acquireTime),
      renewTime: micro(r.renewTime),
      leaseTransitions: r.leaseTransitions,
    },
  };
}

/* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */

/** LeaseClient over coordination.k8s.io/v1 for the Lease namespace/name. */
export function kubeLeaseClient(kc: KubeConfig, namespace: string, name: string): LeaseClient {
  const api = kc.makeApiClient(CoordinationV1Api);
  return {
    get: async () => {
      try {
        return fromLease(await api.readNamespacedLease({ name, namespace }));
      } catch (err) {
        if (codeOf(err) === 404) return undefined;
        throw err;
      }
    },
    create: async (r) => {
      try {
        return fromLease(await api.createNamespacedLease({ namespace, body: toLease(namespace, name, r) }));
      } catch (err) {
        if (codeOf(err) === 409) throw new LeaseConflictError(`lease ${namespace}/${name} already exists`);
        throw err;
      }
    },
    update: async (r) => {
      try {
        const body = toLease(namespace, name, r, r.resourceVersion);
        return fromLease(await api.replaceNamespacedLease({ name, namespace, body }));
      } catch (err) {
        if (codeOf(err) === 409)
          throw new LeaseConflictError(`lease ${namespace}/${name} was changed concurrently`);
        throw err;
      }
    },
  };
}
