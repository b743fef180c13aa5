// AdmissionGuard over an in-memory reader: what isGuarded answers, the gauge, when it logs, the
// opt-out, and how read failures are handled.
import { describe, expect, it } from "@jest/globals";
import { Writable } from "node:stream";
import { ApiException } from "@kubernetes/client-node";
import type { GuardBinding, GuardNamespace, GuardPolicy } from "../../../../src/operator/guard/guard.ts";
import { kubeErrorSummary } from "../../../../src/operator/guard/reader.ts";
import type { GuardRead } from "../../../../src/operator/guard/reader.ts";
import { AdmissionGuard } from "../../../../src/operator/guard/state.ts";
import { createLogger } from "../../../../src/runtime/logger.ts";
import { Metrics } from "../../../../src/runtime/metrics.ts";

const NAME = "drawbridge-requester-is-caller";
const POLICY: GuardPolicy = {
  metadata: { name: NAME },
  spec: {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: ["jit.drawbridge.dev"],
          apiVersions: ["v1alpha1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["accessrequests"],
        },
      ],
    },
    validations: [{ expression: "true" }],
  },
};

function binding(spec: Partial<NonNullable<GuardBinding["spec"]>> = {}): GuardBinding {
  return { metadata: { name: NAME }, spec: { policyName: NAME, validationActions: ["Deny"], ...spec } };
}

const ONLY_PROD = binding({ matchResources: { namespaceSelector: { matchLabels: { tier: "prod" } } } });
const NAMESPACES: GuardNamespace[] = [
  { name: "team-a", labels: { tier: "prod" } },
  { name: "team-c", labels: { tier: "dev" } },
];

type Line = { level: string; msg: string } & Record<string, unknown>;

function harness(allowUnguarded = false): {
  guard: AdmissionGuard;
  lines: Line[];
  metrics: Metrics;
  next: (r: GuardRead | Error) => void;
} {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb): void {
      lines.push(JSON.parse(chunk.toString()) as Line);
      cb();
    },
  });
  const metrics = new Metrics({ processMetrics: false });
  let result: GuardRead | Error = { ok: true, policies: [], bindings: [] };
  const guard = new AdmissionGuard({
    read: () => (result instanceof Error ? Promise.reject(result) : Promise.resolve(result)),
    log: createLogger("info", sink),
    metrics,
    allowUnguarded,
  });
  return {
    guard,
    lines,
    metrics,
    next: (r) => {
      result = r;
    },
  };
}

async function gauge(metrics: Metrics): Promise<number> {
  const m = await metrics.registry.getSingleMetric("drawbridge_admission_guard_unguarded_namespaces")?.get();
  return m?.values[0]?.value ?? Number.NaN;
}

function forbidden(): ApiException<string> {
  const body = JSON.stringify({
    kind: "Status",
    status: "Failure",
    reason: "Forbidden",
    code: 403,
    message: 'validatingadmissionpolicies.admissionregistration.k8s.io is forbidden: User "x" cannot list',
  });
  return new ApiException(403, "Unknown API Status Code!", body, { "audit-id": "123" });
}

describe("AdmissionGuard", () => {
  it("before any refresh, no namespace is guarded", () => {
    const { guard } = harness();
    expect(guard.isGuarded("team-a")).toMatchObject({ ok: false, reason: "AdmissionGuardUnchecked" });
  });

  it("answers per namespace, as a condition reason and message, and sets the gauge", async () => {
    const { guard, next, metrics } = harness();
    next({ ok: true, policies: [POLICY], bindings: [ONLY_PROD] });
    await guard.refresh(NAMESPACES);
    expect(guard.isGuarded("team-a")).toEqual({ ok: true });
    const c = guard.isGuarded("team-c");
    expect(c).toMatchObject({ ok: false, reason: "AdmissionGuardMissing" });
    expect(!c.ok && c.message).toBe(
      "no grant opens in this namespace until the requester admission policy guards it: binding " +
        `${NAME}'s namespaceSelector does not select namespace team-c: label the namespace to match it, ` +
        "or widen admissionPolicy.namespaceSelector",
    );
    expect(guard.unguardedCount).toBe(1);
    expect(await gauge(metrics)).toBe(1);
  });

  it("says why when no policy exists", async () => {
    const { guard, metrics } = harness();
    await guard.refresh(NAMESPACES);
    const a = guard.isGuarded("team-a");
    expect(a).toMatchObject({ ok: false, reason: "AdmissionGuardMissing" });
    expect(!a.ok && a.message).toContain("install the chart with admissionPolicy.enabled=true");
    expect(await gauge(metrics)).toBe(2);
  });

  it("decides a namespace it was not refreshed with from unscoped bindings only", async () => {
    const { guard, next } = harness();
    next({ ok: true, policies: [POLICY], bindings: [ONLY_PROD] });
    await guard.refresh(NAMESPACES);
    const x = guard.isGuarded("team-x");
    expect(!x.ok && x.message).toContain("the labels of namespace team-x are unknown");
    next({ ok: true, policies: [POLICY], bindings: [binding()] });
    await guard.refresh(NAMESPACES);
    expect(guard.isGuarded("team-x")).toEqual({ ok: true });
  });

  it("logs when the state changes, not on every refresh", async () => {
    const { guard, next, lines } = harness();
    next({ ok: true, policies: [POLICY], bindings: [binding()] });
    await guard.refresh(NAMESPACES);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ["info", "admission guard: every served namespace is guarded"],
    ]);
    await guard.refresh(NAMESPACES);
    expect(lines).toHaveLength(1);
    next({ ok: true, policies: [POLICY], bindings: [ONLY_PROD] });
    await guard.refresh(NAMESPACES);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      level: "warn",
      msg: "admission guard: 1 of 2 served namespaces are not guarded; no grants open there",
      unguarded: 1,
      changed: { "team-c": expect.stringContaining("does not select namespace team-c") as unknown },
    });
    await guard.refresh(NAMESPACES);
    expect(lines).toHaveLength(2);
  });

  it("under the opt-out, treats every namespace as guarded, says so once, and still counts", async () => {
    const { guard, lines, metrics } = harness(true);
    expect(guard.isGuarded("team-a")).toEqual({ ok: true });
    await guard.refresh(NAMESPACES);
    await guard.refresh(NAMESPACES);
    expect(guard.isGuarded("team-c")).toEqual({ ok: true });
    const optOut = lines.filter((l) => l.msg.includes("--allow-unguarded-namespaces is set"));
    expect(optOut).toHaveLength(1);
    expect(optOut[0]?.level).toBe("warn");
    expect(await gauge(metrics)).toBe(2);
    expect(lines.map((l) => l.msg)).toContain(
      "admission guard: 2 of 2 served namespaces are not guarded (grants open there anyway: --allow-unguarded-namespaces)",
    );
  });

  it("a forbidden read makes every namespace unreadable, naming the permission", async () => {
    const { guard, next, metrics } = harness();
    next({ ok: true, policies: [POLICY], bindings: [binding()] });
    await guard.refresh(NAMESPACES);
    next({
      ok: false,
      kind: "forbidden",
      error: kubeErrorSummary(forbidden()),
      message: "the operator may not list validatingadmissionpolicies.admissionregistration.k8s.io",
    });
    await guard.refresh(NAMESPACES);
    expect(guard.isGuarded("team-a")).toMatchObject({
      ok: false,
      reason: "AdmissionGuardUnreadable",
      message: expect.stringContaining("may not list validatingadmissionpolicies") as unknown,
    });
    expect(await gauge(metrics)).toBe(2);
  });

  it("a passing read failure keeps the last verdict and logs code, reason and message only", async () => {
    const { guard, next, lines } = harness();
    next({ ok: true, policies: [POLICY], bindings: [binding()] });
    await guard.refresh(NAMESPACES);
    const unavailable = new ApiException(
      503,
      "Unknown API Status Code!",
      JSON.stringify({ kind: "Status", reason: "ServiceUnavailable", message: "etcd is down", code: 503 }),
      { "set-cookie": "secret" },
    );
    next(unavailable);
    await guard.refresh(NAMESPACES);
    expect(guard.isGuarded("team-a")).toEqual({ ok: true });
    const warn = lines.find((l) => l.level === "warn");
    expect(warn).toMatchObject({ code: 503, reason: "ServiceUnavailable", error: "etcd is down" });
    expect(JSON.stringify(warn)).not.toContain("secret");
  });

  it("a passing read failure before any success leaves namespaces unchecked, with the error", async () => {
    const { guard, next } = harness();
    next(new Error("connect ECONNREFUSED 127.0.0.1:6443"));
    await guard.refresh(NAMESPACES);
    const a = guard.isGuarded("team-a");
    expect(a).toMatchObject({ ok: false, reason: "AdmissionGuardUnchecked" });
    expect(!a.ok && a.message).toContain("ECONNREFUSED");
  });
});

describe("kubeErrorSummary", () => {
  it("keeps code, Status reason and message, never the headers", () => {
    expect(kubeErrorSummary(forbidden())).toEqual({
      code: 403,
      reason: "Forbidden",
      message: 'validatingadmissionpolicies.admissionregistration.k8s.io is forbidden: User "x" cannot list',
    });
  });

  it("without a Status body, uses the client's message line", () => {
    const e = new ApiException(401, "Unauthorized", undefined, { authorization: "Bearer x" });
    expect(kubeErrorSummary(e)).toEqual({ code: 401, reason: undefined, message: "Unauthorized" });
  });

  it("clips a long non-JSON body", () => {
    const e = new ApiException(500, "Unknown API Status Code!", "x".repeat(5000), {});
    expect(kubeErrorSummary(e).message.length).toBeLessThan(400);
  });
});
