// Kubernetes access for the chaos suites through @kubernetes/client-node (no kubectl process per
// request: hundreds of requests and a status list every 500 ms must stay cheap on a shared machine).
import { ApiException, CustomObjectsApi } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { ACCESSREQUEST_PLURAL, API_GROUP, API_VERSION, JITPOLICY_PLURAL } from "../../../src/api/types.ts";
import type { AccessRequest, JitPolicy } from "../../../src/api/types.ts";

export interface AdmissionOutcome {
  /** HTTP status: 201 admitted (or dry-run admitted), 4xx refused, 5xx or 0 a server/transport fault. */
  status: number;
  message: string;
}

function outcomeOf(err: unknown): AdmissionOutcome {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    let message = typeof body === "string" ? body : JSON.stringify(body);
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // keep the raw body
    }
    return { status: err.code, message };
  }
  return { status: 0, message: String(err) };
}

export class Kube {
  readonly ns: string;
  readonly #admin: CustomObjectsApi;
  readonly #alice: CustomObjectsApi;

  constructor(admin: KubeConfig, alice: KubeConfig, ns: string) {
    this.ns = ns;
    this.#admin = admin.makeApiClient(CustomObjectsApi);
    this.#alice = alice.makeApiClient(CustomObjectsApi);
  }

  #params(plural: string): { group: string; version: string; namespace: string; plural: string } {
    return { group: API_GROUP, version: API_VERSION, namespace: this.ns, plural };
  }

  async applyPolicy(policy: JitPolicy): Promise<void> {
    await this.#admin.createNamespacedCustomObject({ ...this.#params(JITPOLICY_PLURAL), body: policy });
  }

  /** Creates as alice (the requester); retried on transport faults (the API server may be restarting). */
  async createRequest(body: AccessRequest, attempts = 20): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        await this.#alice.createNamespacedCustomObject({ ...this.#params(ACCESSREQUEST_PLURAL), body });
        return;
      } catch (err) {
        const o = outcomeOf(err);
        if (o.status === 409) return; // created by an earlier attempt whose answer was lost
        if (i >= attempts || (o.status >= 400 && o.status < 500)) throw new Error(`create: ${o.message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Submits through admission (dry-run by default): the API server's verdict, never a throw. */
  async admit(
    plural: string,
    body: unknown,
    as: "admin" | "alice",
    dryRun = true,
  ): Promise<AdmissionOutcome> {
    const api = as === "admin" ? this.#admin : this.#alice;
    try {
      await api.createNamespacedCustomObject({
        ...this.#params(plural),
        body,
        ...(dryRun ? { dryRun: "All" } : {}),
      });
      return { status: 201, message: "" };
    } catch (err) {
      return outcomeOf(err);
    }
  }

  async listRequests(): Promise<AccessRequest[]> {
    const list = (await this.#admin.listNamespacedCustomObject(this.#params(ACCESSREQUEST_PLURAL))) as {
      items: AccessRequest[];
    };
    return list.items;
  }

  async listPolicies(): Promise<JitPolicy[]> {
    const list = (await this.#admin.listNamespacedCustomObject(this.#params(JITPOLICY_PLURAL))) as {
      items: JitPolicy[];
    };
    return list.items;
  }
}
