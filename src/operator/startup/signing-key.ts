// The operator's signing key (ADR 0012): 32 random bytes in a Secret of its own namespace, created by
// the first replica that finds it absent and read by every replica at start. Two replicas starting
// together both try to create it; the loser of that race (409) reads the winner's, so all sign alike.
import { randomBytes } from "node:crypto";
import { ApiException, CoreV1Api } from "@kubernetes/client-node";
import type { KubeConfig, V1Secret } from "@kubernetes/client-node";
import type { SigningKey } from "../../core/approval-signature.ts";

/** The Secret's data key holding the HMAC key. */
export const SIGNING_KEY_FIELD = "hmac-sha256";
/** Shorter keys are refused: HMAC-SHA256 wants at least its block of entropy's worth. */
export const SIGNING_KEY_MIN_BYTES = 32;

export interface SecretStore {
  /** undefined: no such Secret. */
  read(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** Creates it; false when another replica created it first (409). */
  create(namespace: string, body: V1Secret): Promise<boolean>;
}

export function secretStore(kc: KubeConfig): SecretStore {
  const api = kc.makeApiClient(CoreV1Api);
  return {
    async read(namespace, name) {
      try {
        return await api.readNamespacedSecret({ namespace, name });
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
    async create(namespace, body) {
      try {
        await api.createNamespacedSecret({ namespace, body });
        return true;
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) return false;
        throw err;
      }
    },
  };
}

function keyOf(secret: V1Secret, where: string): SigningKey {
  const encoded = secret.data?.[SIGNING_KEY_FIELD];
  const key = encoded === undefined ? undefined : Buffer.from(encoded, "base64");
  if (key === undefined || key.length < SIGNING_KEY_MIN_BYTES) {
    throw new Error(
      `signing key Secret ${where}: data.${SIGNING_KEY_FIELD} must hold at least ${SIGNING_KEY_MIN_BYTES} bytes; delete the Secret to have a new key created (live grants then close)`,
    );
  }
  const created = secret.metadata?.creationTimestamp;
  const createdAt = created === undefined ? new Date(Number.NaN) : new Date(created);
  if (Number.isNaN(createdAt.getTime())) {
    throw new Error(`signing key Secret ${where}: metadata.creationTimestamp is missing`);
  }
  return { key, createdAt };
}

/** Read the key, creating the Secret with 32 random bytes when absent (get after a lost create race). */
export async function loadSigningKey(
  store: SecretStore,
  namespace: string,
  name: string,
): Promise<SigningKey> {
  const where = `${namespace}/${name}`;
  const existing = await store.read(namespace, name);
  if (existing !== undefined) return keyOf(existing, where);
  /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- the generated model
     classes are plain data; the client serialises object literals alike */
  await store.create(namespace, {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name,
      namespace,
      labels: { "app.kubernetes.io/managed-by": "drawbridge", "app.kubernetes.io/component": "signing-key" },
    },
    data: { [SIGNING_KEY_FIELD]: randomBytes(SIGNING_KEY_MIN_BYTES).toString("base64") },
  });
  /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
  // Read back either way: the creationTimestamp is the server's, and a lost race returns the winner's key.
  const stored = await store.read(namespace, name);
  if (stored === undefined)
    throw new Error(`signing key Secret ${where} vanished right after it was created`);
  return keyOf(stored, where);
}
