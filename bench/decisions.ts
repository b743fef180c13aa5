// AccessRequest decision micro-benchmark (docs/performance.md, "Decisions at scale"): CPU ms of one
// request decision (the request reconciler's reconcile of a new request, approval write included)
// when its policy already holds N active requests, as in a burst: before each decision one of the
// held requests changes (another approval landed), so per-policy state cached across decisions is
// invalidated as it is in production. Runs the reconcilers over in-memory Kubernetes and Azure (the
// unit tests' harness), so it measures the operator's own CPU only.
// Run: `node --disable-warning=ExperimentalWarning bench/decisions.ts [N ...]` (prints JSON lines).
import type { AccessRequest, AccessRequestStatus } from "../src/api/types.ts";
import { signApproval } from "../src/core/approval-signature.ts";
import { Bench, NS, T0, sshPolicy, sshRequest } from "../test/unit/operator/reconcilers/bench.ts";

export interface DecisionBenchResult {
  /** Active requests (one grant each) the policy holds before the measured decisions. */
  requests: number;
  decisions: number;
  /** Main-thread CPU ms (user + system) per decision: the fairer figure on a shared machine. */
  cpuMsPerDecision: number;
  msPerDecision: number;
  /** How the measured decisions ended (all Pending-approved when the limits leave room). */
  phases: Record<string, number>;
}

function source(i: number): string {
  return `203.0.113.${i % 256}/32`;
}

/** A request approved by this operator (signed), as the cache holds it after its approval landed. */
function held(b: Bench, i: number, version: number): AccessRequest {
  const r = sshRequest(`held-${i}`, source(i), "PT3H");
  r.metadata.resourceVersion = String(version);
  r.metadata.finalizers = ["jit.drawbridge.dev/finalizer"];
  const status: AccessRequestStatus = {
    phase: "Active",
    startTime: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 3 * 3_600_000).toISOString(),
  };
  status.approvalSignature = signApproval(b.signing.key, r, status);
  r.status = status;
  return r;
}

export async function benchDecisions(n: number, decisions: number): Promise<DecisionBenchResult> {
  const b = new Bench({ limits: { perRequester: 10, perNamespace: n + decisions + 1 } });
  await b.addPolicy(sshPolicy());
  for (let i = 0; i < n; i++) b.kube.requests.put(held(b, i, 1));
  // Warm-up: the first read builds the indexes from the whole cache (start-up, not a decision).
  await b.addRequest(sshRequest("warm-up", source(n), "PT1H"));
  const phases: Record<string, number> = {};
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let d = 0; d < decisions; d++) {
    b.kube.requests.put(held(b, d % Math.max(1, n), 2 + d));
    const name = `new-${d}`;
    await b.addRequest(sshRequest(name, source(d + 7), "PT1H"));
    const phase = `${b.storedRequest(name)?.status?.phase ?? "none"}:${b.storedRequest(name)?.status?.reason ?? ""}`;
    phases[phase] = (phases[phase] ?? 0) + 1;
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  return {
    requests: n,
    decisions,
    cpuMsPerDecision: Math.round(((cpu.user + cpu.system) / 1000 / decisions) * 1000) / 1000,
    msPerDecision: Math.round((wall / decisions) * 1000) / 1000,
    phases,
  };
}

const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length > 0 ? sizes : [1_000, 10_000, 100_000]) {
  const decisions = n >= 100_000 ? 20 : n >= 10_000 ? 100 : 300;
  console.log(JSON.stringify({ namespace: NS, ...(await benchDecisions(n, decisions)) }));
}
