// What the informer caches keep of an object: everything, less the parts no reader of the caches
// uses and that can be large. Nothing cached is ever written back whole (the operator writes with
// merge patches built from scratch), so a dropped part never reaches the API server as a deletion.
// test/unit/runtime/slim.test.ts records what the reconcilers' decisions read and fails when a
// part they read is dropped.
import type { KubernetesObject } from "@kubernetes/client-node";
import { internStrings } from "./intern.ts";
import type { Interner } from "./intern.ts";
import { shareParts } from "./share.ts";
import type { PartTable } from "./share.ts";

/**
 * Annotations no reader uses. kubectl's client-side apply keeps a full copy of the applied object
 * here: for GitOps-applied JitPolicies and AccessRequests it doubles the cached object.
 */
export const DROPPED_ANNOTATIONS: readonly string[] = ["kubectl.kubernetes.io/last-applied-configuration"];

/** The tables cached objects share their strings and small parts through (intern.ts, share.ts). */
export interface SharingTables {
  strings: Interner;
  parts?: PartTable;
}

/**
 * Removes, in place, managedFields (server-side apply bookkeeping) and DROPPED_ANNOTATIONS; with
 * `tables`, then replaces every string value by the table's equal copy, and small repeated parts
 * by shared frozen copies.
 */
export function slim<T extends KubernetesObject>(obj: T, tables?: SharingTables): T {
  dropUnread(obj);
  if (tables === undefined) return obj;
  internStrings(obj, tables.strings);
  if (tables.parts !== undefined) shareParts(obj, tables.parts);
  return obj;
}

/**
 * The metadata is rebuilt without the dropped parts rather than `delete`d from: after the delete,
 * V8 kept a parsed AccessRequest's metadata as a hash table (a 448-byte property dictionary, against
 * ~100 bytes for the rebuilt object; bench/request-heap.ts).
 */
function dropUnread(obj: KubernetesObject): void {
  const meta = obj.metadata;
  if (meta === undefined) return;
  const annotations = meta.annotations;
  const dropAnnotations = annotations !== undefined && DROPPED_ANNOTATIONS.some((key) => key in annotations);
  if (meta.managedFields === undefined && !dropAnnotations) return;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (key === "managedFields") continue;
    if (key !== "annotations" || !dropAnnotations) {
      kept[key] = value;
      continue;
    }
    const rest = Object.entries(annotations).filter(([k]) => !DROPPED_ANNOTATIONS.includes(k));
    if (rest.length > 0) kept[key] = Object.fromEntries(rest);
  }
  obj.metadata = kept;
}
