// The operator's memory with one namespace filled to its open-request limit by requests as large
// as the CRD allows: 200 open AccessRequests (the --max-open-requests-per-namespace default), from
// 20 requesters of 10 each (the per-requester default), each naming 100 targets of the longest ARM
// id the CRD accepts, with a 256-character requester and a 512-character justification, each Active
// with the longest status.rules the operator writes (100 entries). One more request is Denied.
// Prints JSON: the operator's RSS with the policy alone and with the namespace at its limit.
// Run: `node bench/limits-memory.ts` (needs the control-plane binaries; not part of CI).
import { ACCESSREQUEST_PLURAL, API_GROUP_VERSION, JITPOLICY_PLURAL } from "../src/api/types.ts";
import { BENCH_SUB, SOURCE_RANGE, foreignRules, nsgDocument, sourceOf } from "./estate.ts";
import { createNamespace, crPath, pool } from "./kube.ts";
import { procSample, sumOf } from "./operator.ts";
import type { OperatorProcess } from "./operator.ts";
import { Reaper } from "./procs.ts";
import { startStack } from "./stack.ts";
import type { Stack } from "./stack.ts";
import { sleep, until } from "./stats.ts";

const TARGETS = 100;
const REQUESTERS = 20;
const PER_REQUESTER = 10;
/** The longest resource group name ARM allows (90) and NSG name (80): ids of 288 characters. */
const RG = `rg-${"r".repeat(84)}-00`;
const ns = "limits-memory";

function nsgIdOf(i: number): string {
  const name = `nsg-${"n".repeat(72)}-${String(i).padStart(3, "0")}`;
  return `/subscriptions/${BENCH_SUB}/resourceGroups/${RG}/providers/Microsoft.Network/networkSecurityGroups/${name}`;
}

function requesterOf(i: number): string {
  return `${String(i).padStart(2, "0")}-${"u".repeat(253)}`;
}

function policy(ids: string[]): Record<string, unknown> {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: "JitPolicy",
    metadata: { name: "wide", namespace: ns },
    spec: {
      targets: ids.map((id) => ({ networkSecurityGroupId: id, destinationAddressPrefixes: ["10.0.2.4/32"] })),
      ports: [
        { number: 22, protocol: "TCP", allowedSourceAddressPrefixes: [SOURCE_RANGE], maxDuration: "PT3H" },
      ],
      priorityRange: { from: 100, to: 199 },
      nsgScope: "All",
    },
  };
}

function request(n: number, requester: string, ids: string[]): Record<string, unknown> {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: "AccessRequest",
    metadata: { name: `r-${String(n).padStart(3, "0")}`, namespace: ns },
    spec: {
      policyName: "wide",
      targets: ids,
      ports: [22],
      sourceAddressPrefix: sourceOf(n),
      duration: "PT3H",
      justification: `J${String(n).padStart(3, "0")}${"j".repeat(508)}`,
      requester,
    },
  };
}

async function phases(stack: Stack): Promise<Map<string, number>> {
  const list = (await stack.kube.call("GET", crPath(ns, ACCESSREQUEST_PLURAL))) as unknown as {
    items: { status?: { phase?: string; reason?: string } }[];
  };
  const out = new Map<string, number>();
  for (const r of list.items) {
    const k = `${r.status?.phase ?? "-"}${r.status?.reason === undefined ? "" : `/${r.status.reason}`}`;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/** Queues idle for a while: what the operator holds now is its steady state. */
async function idle(op: OperatorProcess): Promise<void> {
  let quietSince = Date.now();
  await until(
    "queues idle for 5 s",
    async () => {
      const m = await op.metrics();
      const busy = sumOf(m, "workqueue_depth") + sumOf(m, "workqueue_unfinished_work_seconds");
      if (busy > 0) quietSince = Date.now();
      return Date.now() - quietSince > 5000;
    },
    300_000,
    500,
  );
}

async function sample(op: OperatorProcess): Promise<{ rss_mib: number; peak_rss_mib: number }> {
  // Let the heap settle (the operator runs with a small new space; old-space GC follows allocation).
  await sleep(3000);
  const s = procSample(op.child.proc.pid ?? 0);
  return { rss_mib: Math.round(s.rssMiB * 10) / 10, peak_rss_mib: Math.round(s.peakRssMiB * 10) / 10 };
}

async function main(): Promise<void> {
  const reaper = new Reaper();
  const log = (m: string): void => {
    process.stderr.write(`${m}\n`);
  };
  try {
    const stack = await startStack(reaper, log);
    const ids = Array.from({ length: TARGETS }, (_, i) => nsgIdOf(i));
    if (ids.some((id) => id.length !== 288))
      throw new Error(`ids are ${ids[0]?.length ?? 0} characters, not 288`);
    await stack.emulator.admin.addResources(ids.map((id) => nsgDocument(id, foreignRules())));
    await createNamespace(stack.kube, ns);
    await stack.kube.call("POST", crPath(ns, JITPOLICY_PLURAL), policy(ids));
    const op = await stack.operator({ namespace: ns, writeMode: "rule", resyncInterval: "10m" });
    await idle(op);
    const policyOnly = await sample(op);
    log(`policy only: ${JSON.stringify(policyOnly)}`);
    const bodies = Array.from({ length: REQUESTERS * PER_REQUESTER }, (_, n) =>
      request(n, requesterOf(n % REQUESTERS), ids),
    );
    const started = Date.now();
    await pool(bodies, 8, (b) => stack.kube.call("POST", crPath(ns, ACCESSREQUEST_PLURAL), b));
    await until(
      "all Active",
      async () => (await phases(stack)).get("Active/Granted") === bodies.length,
      600_000,
      2000,
    );
    const settledS = (Date.now() - started) / 1000;
    // One more, from a requester with none open: the namespace limit denies it.
    await stack.kube.call("POST", crPath(ns, ACCESSREQUEST_PLURAL), request(bodies.length, "late", ids));
    await until(
      "the extra one Denied",
      async () => (await phases(stack)).has("Denied/NamespaceLimitExceeded"),
      60_000,
      1000,
    );
    await idle(op);
    const atLimit = await sample(op);
    const one = (await stack.kube.call("GET", crPath(ns, ACCESSREQUEST_PLURAL, "r-000"))) as unknown as {
      status?: { rules?: unknown[] };
    };
    const result = {
      open_requests: bodies.length,
      targets_per_request: TARGETS,
      target_id_chars: ids[0]?.length ?? 0,
      status_rules_per_request: one.status?.rules?.length ?? 0,
      object_json_kib: Math.round(Buffer.byteLength(JSON.stringify(one)) / 102.4) / 10,
      phases: Object.fromEntries(await phases(stack)),
      seconds_to_all_active: Math.round(settledS),
      rss_policy_only: policyOnly,
      rss_at_limit: atLimit,
      rss_delta_mib: Math.round((atLimit.rss_mib - policyOnly.rss_mib) * 10) / 10,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await reaper.stopAll();
  }
}

await main();
