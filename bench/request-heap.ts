// Heap held per active AccessRequest: the object as the request informer caches it, then the
// operator's own per-request state built from the cache the way the reconcilers build it (the
// informer's key, the grant index's grants, policy views and sort keys, the renewal index, the NSG
// ledger's placements). The requests are the resync scenario's (bench/scenarios/resync-estate.ts),
// served as the API server serves them: uid, resourceVersion, managedFields of the create and of the
// operator's status patches, and the status the operator writes, approval record and signature
// included; parsed from list pages of 500 as the informer's first list parses them.
// Run: `node --expose-gc bench/request-heap.ts [requests] [nsgs] [distinct]` (prints JSON; nsgs
// defaults to requests / 5 as in the estate; `distinct` gives every request its own timestamps).
import type { AccessRequest, AccessRequestStatus, JitPolicy } from "../src/api/types.ts";
import { slim } from "../src/runtime/slim.ts";
import { Interner } from "../src/runtime/intern.ts";
import { PartTable } from "../src/runtime/share.ts";
import { buildResyncEstate } from "./scenarios/resync-estate.ts";
import type { ResyncEstate } from "./scenarios/resync-estate.ts";
import { operatorState } from "./request-state.ts";
import type { StateStep } from "./request-state.ts";

type Json = Record<string, unknown>;

const NS = "bench-heap";
const PAGE = 500;

function gcNow(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  gc();
  gc();
}

function heapUsed(): number {
  gcNow();
  return process.memoryUsage().heapUsed;
}

/**
 * The resync estate approves every request in the same instant. With `distinct`, request k's
 * timestamps (startTime, expiresAt, conditions, message) are k seconds later: no two alike, as
 * when requests are approved one by one.
 */
function timesOf(status: AccessRequestStatus, k: number, distinct: boolean): AccessRequestStatus {
  const { startTime, expiresAt } = status;
  if (!distinct || startTime === undefined || expiresAt === undefined) return status;
  const later = (iso: string): string => new Date(Date.parse(iso) + k * 1000).toISOString();
  const text = JSON.stringify(status)
    .replaceAll(startTime, later(startTime))
    .replaceAll(expiresAt, later(expiresAt));
  return JSON.parse(text) as AccessRequestStatus;
}

/** Request k as the API server serves it after the operator approved it and placed its rules. */
function served(estate: ResyncEstate, k: number, distinct: boolean): Json {
  const entry = estate.requests[k] ?? { body: {}, status: {} };
  const body = entry.body;
  const status = timesOf(entry.status, k, distinct);
  const meta = body.metadata as Json;
  const spec = body.spec as { targets: string[] };
  const created = status.startTime ?? "";
  const fields = (f: Json): Json => ({ f });
  return {
    ...body,
    metadata: {
      ...meta,
      uid: `${(100_000_000 + k).toString(16)}-6b1c-4c1e-9d7a-${(k * 7919).toString(16).padStart(12, "0")}`,
      resourceVersion: String(1_000_000 + k),
      generation: 1,
      creationTimestamp: created,
      managedFields: [
        {
          manager: "kubectl-create",
          operation: "Update",
          apiVersion: body.apiVersion,
          time: created,
          fieldsType: "FieldsV1",
          fieldsV1: fields({ "f:spec": fields({ "f:policyName": {}, "f:ports": {}, "f:targets": {} }) }),
        },
        {
          manager: "drawbridge",
          operation: "Update",
          apiVersion: body.apiVersion,
          time: created,
          fieldsType: "FieldsV1",
          subresource: "status",
          fieldsV1: fields({ "f:status": fields({ "f:phase": {}, "f:rules": {}, "f:conditions": {} }) }),
        },
      ],
    },
    status: {
      ...status,
      approved: { targets: [...spec.targets], ports: [{ number: 22, protocol: "TCP" }] },
      approvalSignature: `v1.${(k * 2654435761).toString(16).padStart(64, "0").slice(-64)}`,
    },
  };
}

/** What the informer does to each listed object: nothing, slim(), slim() with interning (and sharing). */
type Transform = (o: Json) => Json;

/** Parses the requests from list pages, transforms and holds them; returns them and the bytes held. */
function cached(
  estate: ResyncEstate,
  n: number,
  distinct: boolean,
  transform: Transform,
): { items: Json[]; bytes: number } {
  const before = heapUsed();
  const items: Json[] = [];
  for (let start = 0; start < n; start += PAGE) {
    const page = Array.from({ length: Math.min(PAGE, n - start) }, (_, i) =>
      served(estate, start + i, distinct),
    );
    const text = JSON.stringify({ kind: "AccessRequestList", metadata: {}, items: page });
    for (const o of (JSON.parse(text) as { items: Json[] }).items) items.push(transform(o));
  }
  return { items, bytes: heapUsed() - before };
}

const perObject = (bytes: number, n: number): number => Math.round(bytes / n);

function main(): void {
  const n = Number(process.argv[2] ?? 10_000);
  const nsgs = Number(process.argv[3] ?? Math.ceil(n / 5));
  const distinct = process.argv[4] === "distinct";
  const estate = buildResyncEstate(NS, nsgs, n, Math.ceil(nsgs / 100));
  const policies = estate.policies.map((p) => JSON.parse(JSON.stringify(p)) as JitPolicy);
  const asIs = cached(estate, n, distinct, (o) => o);
  asIs.items.length = 0;
  const slimmed = cached(estate, n, distinct, (o) => slim(o as never));
  slimmed.items.length = 0;
  const strings = { strings: new Interner() };
  const internedOnly = cached(estate, n, distinct, (o) => slim(o as never, strings));
  internedOnly.items.length = 0;
  const table = new Interner();
  const parts = new PartTable();
  const interned = cached(estate, n, distinct, (o) => slim(o as never, { strings: table, parts }));
  const requests = interned.items as unknown as AccessRequest[];
  const state: StateStep[] = operatorState(requests, policies, heapUsed);
  const stateBytes = state.reduce((s, x) => s + x.bytes, 0);
  console.log(
    JSON.stringify({
      requests: n,
      nsgs,
      timestamps: distinct ? "distinct" : "shared",
      bytes_per_request: {
        as_served: perObject(asIs.bytes, n),
        slim: perObject(slimmed.bytes, n),
        slim_interned: perObject(internedOnly.bytes, n),
        slim_interned_shared: perObject(interned.bytes, n),
        operator_state: Object.fromEntries(state.map((s) => [s.step, perObject(s.bytes, n)])),
        operator_state_total: perObject(stateBytes, n),
        total: perObject(interned.bytes + stateBytes, n),
      },
      intern_table_entries: table.size,
      part_table_entries: parts.size,
      heap_mib_at_n: Math.round(((interned.bytes + stateBytes) / 2 ** 20) * 10) / 10,
    }),
  );
}

main();
