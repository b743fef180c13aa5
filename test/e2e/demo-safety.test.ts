// The demo is as safe as the chart: started the way `npm run demo` starts it (its own control plane,
// the chart's admission policies as helm renders them, examples/scope.yaml, the operator, then
// examples/policy.yaml), the API server refuses alice's request in bob's name and bob's team-b
// policy on team-a's VM, and still accepts (and the operator opens) alice's own request.
// It has its own control plane, not the run's shared one: the chart's admission policies are
// cluster-wide and would refuse what the other suites do in their namespaces.
import { join } from "node:path";
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import { kubectl } from "../../src/controlplane/index.ts";
import type { ControlPlane, KubectlResult } from "../../src/controlplane/index.ts";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import type { Manifest } from "../../src/helm/template.ts";
import { renderAdmission } from "../../src/demo/admission.ts";
import { DEMO_NAMESPACE, OTHER_TEAM_NAMESPACE } from "../../src/demo/names.ts";
import {
  applyDemoObjects,
  applyPolicy,
  examplePolicy,
  forgedRequest,
  freePort,
  otherTeamPolicy,
  spawnOperator,
  startEmulatorFor,
  startPlane,
} from "../../src/demo/stack.ts";
import { OperatorProcess } from "../support/operator-process.ts";
import { eventually } from "../support/poll.ts";

const ROOT = join(import.meta.dirname, "..", "..");

jest.setTimeout(60_000);

let admission: Manifest[] = [];
let plane: ControlPlane | undefined;
let emulator: RunningEmulator | undefined;
let operator: OperatorProcess | undefined;

function as(user: "admin" | "alice" | "bob", args: string[], input?: string): Promise<KubectlResult> {
  const p = plane as ControlPlane;
  return kubectl(args, {
    binDir: p.binDir,
    kubeconfig: p.kubeconfigs[user],
    ...(input === undefined ? {} : { input }),
  });
}

/** The admission policy whose objects carry jit.drawbridge.dev/guard=<guard> in the rendered chart. */
function guardPolicy(guard: string): string {
  const found = admission.filter(
    (m) =>
      m.kind === "ValidatingAdmissionPolicy" && m.metadata.labels?.["jit.drawbridge.dev/guard"] === guard,
  );
  expect(found).toHaveLength(1);
  return (found[0] as Manifest).metadata.name;
}

beforeAll(async () => {
  // Cold: builds helm from the Go module proxy (minutes); warm: a cache hit and one `helm template`.
  admission = await renderAdmission(() => undefined);
  plane = await startPlane(() => undefined);
  emulator = await startEmulatorFor(ROOT);
  await applyDemoObjects(plane, ROOT, admission);
  const ports = { metrics: await freePort(), health: await freePort() };
  // Spawned as `npm run demo` spawns it; the helper only captures its output and stops it.
  operator = new OperatorProcess(spawnOperator(ROOT, plane, emulator, ports, admission), {
    maxLogChars: 200_000,
    stopTimeoutMs: 20_000,
  });
  await applyPolicy(plane, examplePolicy(ROOT));
}, 1_800_000);

afterAll(async () => {
  await operator?.stop();
  await emulator?.close();
  await plane?.stop();
}, 60_000);

test("alice's request in bob's name is refused by the API server, naming spec.requester", async () => {
  const r = await as("alice", ["create", "-f", "-"], forgedRequest(ROOT));
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain("spec.requester");
  expect(r.stderr).toContain(`ValidatingAdmissionPolicy '${guardPolicy("requester")}'`);
  const left = await as("admin", ["get", "accessrequests", "-n", DEMO_NAMESPACE, "-o", "name"]);
  expect(left.code).toBe(0);
  expect(left.stdout.trim()).toBe("");
});

test("alice's own request is accepted, and the operator opens it", async () => {
  const created = await as("alice", ["create", "-f", join(ROOT, "examples", "request.yaml"), "-o", "name"]);
  expect(created.stderr).toBe("");
  expect(created.code).toBe(0);
  const name = created.stdout.trim().split("/").pop() ?? "";
  let phase = "";
  try {
    await eventually(
      "Active",
      async () => {
        const r = await as("admin", [
          "get",
          "accessrequest",
          name,
          "-n",
          DEMO_NAMESPACE,
          "-o",
          "jsonpath={.status.phase}",
        ]);
        phase = r.stdout.trim();
        return phase === "Active";
      },
      45_000,
      500,
    );
  } catch {
    throw new Error(`request ${name} is "${phase}", not Active; operator log:\n${operator?.logs() ?? ""}`);
  }
});

test("bob's team-b policy on team-a's VM is refused by the chart's scope policy", async () => {
  // RBAC lets bob write policies in team-b: the refusal below is the scope policy's, not RBAC's.
  const canI = await as("bob", ["auth", "can-i", "create", "jitpolicies", "-n", OTHER_TEAM_NAMESPACE]);
  expect(canI.stdout.trim()).toBe("yes");
  const r = await as("bob", ["apply", "-f", "-"], otherTeamPolicy(ROOT));
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`ValidatingAdmissionPolicy '${guardPolicy("scope")}'`);
  expect(r.stderr).toContain(OTHER_TEAM_NAMESPACE);
  const left = await as("admin", ["get", "jitpolicies", "-n", OTHER_TEAM_NAMESPACE, "-o", "name"]);
  expect(left.stdout.trim()).toBe("");
});
