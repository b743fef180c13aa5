// Input faults (docs/reliability.md): generated policies and requests through the core validator (never a
// crash, every issue names a field and says why) and through admission on the real API server
// (server-side dry-run: admitted or refused with a message, never a server error). Everything that
// admission lets through but the operator must refuse is then created for real while the operator
// runs: requests end Denied and not a single Azure write happens.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ACCESSREQUEST_PLURAL, JITPOLICY_PLURAL } from "../../src/api/types.ts";
import type { JitPolicy } from "../../src/api/types.ts";
import { validatePolicySpec, validateRequest } from "../../src/core/index.ts";
import type { Issue } from "../../src/core/index.ts";
import { testCluster } from "../support/cluster.ts";
import { budget } from "./support/budget.ts";
import { chaosPolicy } from "./support/estate.ts";
import { recordFigures } from "./support/figures.ts";
import { comparable } from "./support/invariants.ts";
import { policyDoc, policySpec, refusedPolicySpecs, requestDoc, requestSpec } from "./support/inputs.ts";
import { readNsgs } from "./support/monitor.ts";
import { ChaosStack, sleep, waitFor } from "./support/stack.ts";

const B = budget();
let stack: ChaosStack;

beforeAll(async () => {
  stack = await ChaosStack.start(testCluster(), "chaos-input", { nsgs: 10, boundMs: 5_000 });
}, 60_000);

afterAll(async () => {
  await stack.close();
}, 60_000);

function wellFormed(issues: Issue[]): boolean {
  return issues.every((i) => i.reason.length > 0 && i.field.length > 0 && i.message.length > 0);
}

describe("input faults", () => {
  it("the core validator never crashes and explains every issue", () => {
    const chaos = chaosPolicy("ns", 10);
    fc.assert(
      fc.property(policySpec, (spec) => wellFormed(validatePolicySpec(spec))),
      { numRuns: B.inputRuns * 10 },
    );
    fc.assert(
      fc.property(requestSpec(["chaos"]), (spec) => {
        const v = validateRequest(requestDoc("ns", "r", spec), chaos);
        return v.allowed || (v.message.length > 0 && wellFormed(v.issues));
      }),
      { numRuns: B.inputRuns * 10 },
    );
  });

  it("admission answers every generated object; what it admits but the operator refuses causes no Azure write", async () => {
    const s = stack;
    s.startOperator({ identity: "input-0" });
    await s.applyPolicy();
    await waitFor(
      "the baseline in every NSG",
      () =>
        [...readNsgs(s.emulator, s.nsgIds).values()].every((rules) =>
          rules.some((r) => r.name.startsWith("drawbridge-")),
        ),
      60_000,
    );
    // The rest of the baseline may still be in flight: start counting once ARM has seen no write
    // for 2 s, however long the operator takes on a loaded machine.
    await waitFor(
      "the baseline written",
      async () => {
        const w = s.emulator.stats().writes;
        await sleep(2_000);
        return s.emulator.stats().writes === w;
      },
      60_000,
    );
    const before = s.emulator.stats().writes;
    const nsgsBefore = [...readNsgs(s.emulator, s.nsgIds)].map(([id, rules]) => [id, rules.map(comparable)]);
    const tally = {
      policies: 0,
      requests: 0,
      admitted: 0,
      refused: 0,
      serverErrors: [] as string[],
      createdPolicies: 0,
      createdRequests: 0,
      coreValidButRefused: 0,
      refusals: [] as string[],
      silentRefusals: 0,
    };
    const policies = new Map<string, JitPolicy>([["chaos", chaosPolicy(s.ns, s.nsgIds.length)]]);

    let i = 0;
    // Specs core validation refuses, every run (admission refuses them too), then generated ones.
    for (const spec of [...refusedPolicySpecs, ...fc.sample(policySpec, B.inputRuns)]) {
      const name = `gen-p-${String(i++)}`;
      const doc = policyDoc(s.ns, name, spec);
      const dry = await s.kube.admit(JITPOLICY_PLURAL, doc, "admin");
      tally.policies += 1;
      const invalid = validatePolicySpec(spec).length > 0;
      if (dry.status >= 500 || dry.status === 0)
        tally.serverErrors.push(`${name}: ${String(dry.status)} ${dry.message}`);
      if (dry.status === 201) tally.admitted += 1;
      else {
        tally.refused += 1;
        if (dry.message.trim() === "") tally.silentRefusals += 1;
        if (tally.refusals.length < 4)
          tally.refusals.push(`${String(dry.status)} ${dry.message.slice(0, 240)}`);
      }
      if (dry.status !== 201 && !invalid) tally.coreValidButRefused += 1;
      if (dry.status === 201 && invalid) {
        const real = await s.kube.admit(JITPOLICY_PLURAL, doc, "admin", false);
        if (real.status === 201) {
          tally.createdPolicies += 1;
          policies.set(name, doc);
        }
      }
    }
    const denied: string[] = [];
    for (const spec of fc.sample(requestSpec([...policies.keys()]), B.inputRuns * 2)) {
      const name = `gen-r-${String(i++)}`;
      const doc = requestDoc(s.ns, name, spec);
      const dry = await s.kube.admit(ACCESSREQUEST_PLURAL, doc, "alice");
      tally.requests += 1;
      const verdict = validateRequest(doc, policies.get(String(spec.policyName)));
      if (dry.status >= 500 || dry.status === 0)
        tally.serverErrors.push(`${name}: ${String(dry.status)} ${dry.message}`);
      if (dry.status === 201) tally.admitted += 1;
      else {
        tally.refused += 1;
        if (dry.message.trim() === "") tally.silentRefusals += 1;
        if (tally.refusals.length < 4)
          tally.refusals.push(`${String(dry.status)} ${dry.message.slice(0, 240)}`);
      }
      if (dry.status === 201 && !verdict.allowed) {
        const real = await s.kube.admit(ACCESSREQUEST_PLURAL, doc, "alice", false);
        if (real.status === 201) {
          tally.createdRequests += 1;
          denied.push(name);
        }
      }
    }
    const phases = await waitFor(
      "every admitted-but-invalid request Denied",
      async () => {
        const rs = await s.kube.listRequests();
        const byName = new Map(rs.map((r) => [r.metadata.name ?? "", r.status?.phase]));
        return denied.every((n) => byName.get(n) === "Denied") ? byName : undefined;
      },
      60_000,
      500,
    );
    // Give the policy reconciler a moment on the invalid policies, then nothing may have been written.
    await sleep(3_000);
    const writes = s.emulator.stats().writes - before;
    const nsgsAfter = [...readNsgs(s.emulator, s.nsgIds)].map(([id, rules]) => [id, rules.map(comparable)]);
    recordFigures("inputFaults", {
      mode: B.full ? "full" : "bounded",
      propertyRuns: B.inputRuns * 20,
      ...tally,
      serverErrors: tally.serverErrors.length,
      deniedRequests: denied.length,
      azureWrites: writes,
    });
    expect(tally.serverErrors).toEqual([]);
    expect(tally.silentRefusals).toBe(0);
    expect(denied.every((n) => phases.get(n) === "Denied")).toBe(true);
    expect(writes).toBe(0);
    expect(s.foreignTouches()).toEqual([]);
    expect(nsgsAfter).toEqual(nsgsBefore);
    expect(tally.createdRequests).toBeGreaterThan(0);
  }, 300_000);
});
