// loadSigningKey against an in-memory Secret store: created once, read back, and the loser of a
// create race (409) reads the winner's key.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread --
   the generated model classes are plain JSON shapes; the store keeps them as the API server would. */
import { describe, expect, it } from "@jest/globals";
import type { V1Secret } from "@kubernetes/client-node";
import { SIGNING_KEY_FIELD, loadSigningKey } from "../../../../src/operator/startup/signing-key.ts";
import type { SecretStore } from "../../../../src/operator/startup/signing-key.ts";

class MemoryStore implements SecretStore {
  readonly secrets = new Map<string, V1Secret>();
  creates = 0;
  /** Runs before a create lands: another replica's create, for the race. */
  beforeCreate: (() => void) | undefined;

  read(namespace: string, name: string): Promise<V1Secret | undefined> {
    return Promise.resolve(this.secrets.get(`${namespace}/${name}`));
  }

  create(namespace: string, body: V1Secret): Promise<boolean> {
    this.creates++;
    this.beforeCreate?.();
    const key = `${namespace}/${body.metadata?.name ?? ""}`;
    if (this.secrets.has(key)) return Promise.resolve(false);
    this.put(namespace, body);
    return Promise.resolve(true);
  }

  put(namespace: string, body: V1Secret): void {
    const metadata = { ...body.metadata, creationTimestamp: new Date("2026-12-01T00:00:00Z") };
    this.secrets.set(`${namespace}/${body.metadata?.name ?? ""}`, { ...body, metadata });
  }
}

function secret(bytes: number, fill = 1): V1Secret {
  return {
    metadata: { name: "drawbridge-signing-key" },
    data: { [SIGNING_KEY_FIELD]: Buffer.alloc(bytes, fill).toString("base64") },
  };
}

describe("loadSigningKey", () => {
  it("creates 32 random bytes when absent and returns them with the server's creation time", async () => {
    const store = new MemoryStore();
    const k = await loadSigningKey(store, "drawbridge-system", "drawbridge-signing-key");
    expect(k.key).toHaveLength(32);
    expect(k.createdAt.toISOString()).toBe("2026-12-01T00:00:00.000Z");
    const again = await loadSigningKey(store, "drawbridge-system", "drawbridge-signing-key");
    expect(Buffer.from(again.key).equals(Buffer.from(k.key))).toBe(true);
    expect(store.creates).toBe(1);
  });

  it("reads the winner's key after losing the create race", async () => {
    const store = new MemoryStore();
    store.beforeCreate = () => {
      store.put("ns", secret(32, 9));
    };
    const k = await loadSigningKey(store, "ns", "drawbridge-signing-key");
    expect(Buffer.from(k.key).equals(Buffer.alloc(32, 9))).toBe(true);
  });

  it("refuses a key shorter than 32 bytes, naming the Secret and the field", async () => {
    const store = new MemoryStore();
    store.put("ns", secret(16));
    await expect(loadSigningKey(store, "ns", "drawbridge-signing-key")).rejects.toThrow(
      `signing key Secret ns/drawbridge-signing-key: data.${SIGNING_KEY_FIELD} must hold at least 32 bytes`,
    );
  });
});
