// In-memory ARM state: NSGs (the hot path) and the read-only estate (VMs, NICs, vnets).
// Keys are lower-cased ids; every mutation is reported to the journal for persistence.
import { idKey, parseResourceId, resourceGroupKey } from "./ids.ts";
import type { ArmDoc } from "./types.ts";

export type JournalEntry =
  | { k: "nsg"; doc: ArmDoc }
  | { k: "nsg-del"; id: string }
  | { k: "res"; doc: ArmDoc }
  | { k: "rg"; id: string };

export interface Snapshot {
  version: 1;
  groups: string[];
  resources: ArmDoc[];
  nsgs: ArmDoc[];
}

export class Store {
  private readonly nsgs = new Map<string, ArmDoc>();
  private readonly resources = new Map<string, ArmDoc>();
  private readonly groups = new Set<string>();
  private readonly subscriptions = new Set<string>();
  /** Stored documents are never mutated, so their JSON is computed once. */
  private readonly json = new WeakMap<ArmDoc, string>();
  journal: ((e: JournalEntry) => void) | undefined;

  addResourceGroup(id: string): void {
    const parts = id.split("/").filter((p) => p !== "");
    const sub = parts[1];
    const rg = parts[3];
    if (sub === undefined || rg === undefined) throw new Error(`not a resource group id: ${id}`);
    const key = resourceGroupKey(sub, rg);
    if (this.groups.has(key)) return;
    this.groups.add(key);
    this.subscriptions.add(sub.toLowerCase());
    this.journal?.({ k: "rg", id: key });
  }

  hasSubscription(sub: string): boolean {
    return this.subscriptions.has(sub.toLowerCase());
  }

  hasResourceGroup(sub: string, rg: string): boolean {
    return this.groups.has(resourceGroupKey(sub, rg));
  }

  getNsg(id: string): ArmDoc | undefined {
    return this.nsgs.get(idKey(id));
  }

  putNsg(doc: ArmDoc): void {
    this.registerGroupOf(doc.id);
    this.nsgs.set(idKey(doc.id), doc);
    this.journal?.({ k: "nsg", doc });
  }

  deleteNsg(id: string): boolean {
    const existed = this.nsgs.delete(idKey(id));
    if (existed) this.journal?.({ k: "nsg-del", id: idKey(id) });
    return existed;
  }

  /** NSGs of a subscription (and resource group), in insertion order. */
  *listNsgs(sub: string, rg?: string): Generator<ArmDoc> {
    const prefix =
      rg === undefined ? `/subscriptions/${sub}/`.toLowerCase() : `${resourceGroupKey(sub, rg)}/`;
    for (const [key, doc] of this.nsgs) if (key.startsWith(prefix)) yield doc;
  }

  jsonOf(doc: ArmDoc): string {
    let text = this.json.get(doc);
    if (text === undefined) {
      text = JSON.stringify(doc);
      this.json.set(doc, text);
    }
    return text;
  }

  nsgCount(): number {
    return this.nsgs.size;
  }

  get(id: string): ArmDoc | undefined {
    return this.resources.get(idKey(id));
  }

  putResource(doc: ArmDoc): void {
    this.registerGroupOf(doc.id);
    this.resources.set(idKey(doc.id), doc);
    this.journal?.({ k: "res", doc });
  }

  allResources(): IterableIterator<ArmDoc> {
    return this.resources.values();
  }

  snapshot(): Snapshot {
    return {
      version: 1,
      groups: [...this.groups],
      resources: [...this.resources.values()],
      nsgs: [...this.nsgs.values()],
    };
  }

  /** Replays a persisted entry without journaling it again. */
  apply(e: JournalEntry): void {
    const journal = this.journal;
    this.journal = undefined;
    try {
      if (e.k === "nsg") this.putNsg(e.doc);
      else if (e.k === "nsg-del") this.deleteNsg(e.id);
      else if (e.k === "res") this.putResource(e.doc);
      else this.addResourceGroup(e.id);
    } finally {
      this.journal = journal;
    }
  }

  private registerGroupOf(id: string): void {
    const parsed = parseResourceId(id);
    if (parsed === undefined) throw new Error(`not a resource id: ${id}`);
    this.addResourceGroup(`/subscriptions/${parsed.subscriptionId}/resourceGroups/${parsed.resourceGroup}`);
  }
}
