// The scope index: a JitScopeIndex object the chart's admission policy takes as its parameter, so the API server
// itself refuses a JitPolicy whose targets lie outside its namespace's JitScopes. An admission policy
// evaluates each parameter object on its own (several matching parameters are ANDed), so it cannot
// take the union of several scopes; the operator computes that union and publishes it here, one key
// per namespace: the lower-cased ARM id prefixes, separated by spaces. The operator re-checks every
// policy itself, so a stale index can only refuse too much or too little at admission, never open
// anything.
import { ApiException, CustomObjectsApi } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import type { JitScope, JitScopeIndex } from "../../api/types.ts";
import { API_GROUP, API_GROUP_VERSION, API_VERSION, JITSCOPEINDEX_PLURAL } from "../../api/types.ts";
import { scopeIndex } from "../../core/scope.ts";
import { kubeErrorFields } from "../../runtime/kube-errors.ts";
import type { NamespaceInfo } from "./gate.ts";
import type { Logger } from "../../runtime/logger.ts";

/** The key that tells the admission policy to leave namespaces without a scope alone (opt-out). */
export const ALLOW_UNSCOPED_KEY = "allowUnscopedNamespaces";

export function scopeIndexData(
  scopes: JitScope[],
  namespaces: NamespaceInfo[],
  allowUnscoped: boolean,
): Record<string, string> {
  const data: Record<string, string> = {};
  const index = scopeIndex(scopes, namespaces);
  for (const ns of [...index.keys()].sort()) {
    const prefixes = (index.get(ns) ?? []).filter((p) => p !== "");
    if (prefixes.length > 0) data[ns] = prefixes.join(" ");
  }
  data[ALLOW_UNSCOPED_KEY] = allowUnscoped ? "true" : "false";
  return data;
}

export interface ScopeIndexTarget {
  namespace: string;
  name: string;
}

export interface StoredIndex {
  data: Record<string, string>;
  resourceVersion?: string | undefined;
}

export interface ScopeIndexStore {
  read(t: ScopeIndexTarget): Promise<StoredIndex | undefined>;
  /** Create (current undefined) or replace what was read (a conflict means someone wrote meanwhile). */
  write(t: ScopeIndexTarget, data: Record<string, string>, current: StoredIndex | undefined): Promise<void>;
}

/** The index as a JitScopeIndex object (a custom resource: see the CRD for why not a ConfigMap). */
export function scopeIndexStore(kc: KubeConfig): ScopeIndexStore {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const common = { group: API_GROUP, version: API_VERSION, plural: JITSCOPEINDEX_PLURAL };
  return {
    read: async (t) => {
      try {
        const obj = (await custom.getNamespacedCustomObject({
          ...common,
          namespace: t.namespace,
          name: t.name,
        })) as JitScopeIndex;
        return { data: obj.data ?? {}, resourceVersion: obj.metadata.resourceVersion };
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
    write: async (t, data, current) => {
      const body: JitScopeIndex = {
        apiVersion: API_GROUP_VERSION,
        kind: "JitScopeIndex",
        metadata: {
          name: t.name,
          namespace: t.namespace,
          labels: { "app.kubernetes.io/managed-by": "drawbridge" },
          ...(current?.resourceVersion === undefined ? {} : { resourceVersion: current.resourceVersion }),
        },
        namespaces: Object.keys(data).filter((k) => k !== ALLOW_UNSCOPED_KEY).length,
        data,
      };
      if (current === undefined)
        await custom.createNamespacedCustomObject({ ...common, namespace: t.namespace, body });
      else
        await custom.replaceNamespacedCustomObject({ ...common, namespace: t.namespace, name: t.name, body });
    },
  };
}

export interface ScopeIndexDeps {
  store: ScopeIndexStore;
  target: ScopeIndexTarget;
  compute(): Record<string, string>;
  log: Logger;
}

/** Publishes the index when asked; calls never overlap, and a call made meanwhile runs once after. */
export class ScopeIndexPublisher {
  readonly #d: ScopeIndexDeps;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(deps: ScopeIndexDeps) {
    this.#d = deps;
  }

  publish(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #loop(): Promise<void> {
    for (;;) {
      this.#again = false;
      try {
        await this.#once();
      } catch (err) {
        this.#d.log.warn(
          { ...kubeErrorFields(err), index: this.#d.target },
          "publishing the scope index failed",
        );
      }
      if (!this.#takeAgain()) return;
    }
  }

  /** Whether publish() was called while a pass ran (then the data may have changed since). */
  #takeAgain(): boolean {
    return this.#again;
  }

  async #once(): Promise<void> {
    const { store, target } = this.#d;
    const data = this.#d.compute();
    const current = await store.read(target);
    if (current !== undefined && sameData(current.data, data)) return;
    await store.write(target, data, current);
    this.#d.log.info({ index: target, namespaces: Object.keys(data).length - 1 }, "scope index published");
  }
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}
