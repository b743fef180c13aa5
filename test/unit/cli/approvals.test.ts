import { describe, expect, it } from "@jest/globals";
import type { AccessApproval, AccessRequest, JitPolicy } from "../../../src/api/types.ts";
import { answerable } from "../../../src/cli/access/answerable.ts";
import { UsageError, onePositional, parse } from "../../../src/cli/access/args.ts";
import type { AccessApi } from "../../../src/cli/access/client.ts";
import { candidates } from "../../../src/cli/access/completion.ts";
import type { Context } from "../../../src/cli/access/context.ts";
import { approve, reject } from "../../../src/cli/access/commands/approve.ts";
import { pending } from "../../../src/cli/access/commands/pending.ts";
import { COMMANDS, runAccess } from "../../../src/cli/access/main.ts";
import { ageText, answerOutcome, pendingRows } from "../../../src/cli/access/render-approvals.ts";

const NOW = new Date("2026-12-03T10:00:00Z");

function req(name: string, over: Partial<AccessRequest["status"]> = {}, requester = "alice"): AccessRequest {
  return {
    apiVersion: "jit.drawbridge.dev/v1alpha1",
    kind: "AccessRequest",
    metadata: { name, namespace: "team-a", uid: `uid-${name}`, creationTimestamp: "2026-12-03T09:47:30Z" },
    spec: {
      policyName: "web-admin",
      ports: [22],
      sourceAddressPrefix: "203.0.113.7/32",
      duration: "PT1H",
      justification: "INC-4711 restart",
      requester,
    },
    status: { phase: "Pending", reason: "AwaitingApproval", approvalSummary: "0/2", ...over },
  };
}

const policy: JitPolicy = {
  apiVersion: "jit.drawbridge.dev/v1alpha1",
  kind: "JitPolicy",
  metadata: { name: "web-admin", namespace: "team-a" },
  spec: {
    targets: [
      {
        virtualMachineId:
          "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/web-1",
      },
    ],
    ports: [{ number: 22, protocol: "TCP", maxDuration: "PT3H" }],
    approval: { required: 2, approvers: { users: ["bob"], groups: ["sre"] } },
  },
} as JitPolicy;

const bob = { username: "bob", groups: ["system:authenticated"] };

describe("approve/reject command line", () => {
  it("takes one request and --comment", () => {
    const p = parse(["alice-x", "--comment", "checked INC-4711", "-n", "team-a"], approve.flags);
    expect(onePositional(p, "request")).toBe("alice-x");
    expect(p.strings["comment"]).toBe("checked INC-4711");
    expect(p.strings["namespace"]).toBe("team-a");
  });

  it("refuses a missing request, a second one and an unknown flag", () => {
    expect(() => onePositional(parse([], reject.flags), "request")).toThrow("missing <request>");
    expect(() => onePositional(parse(["a", "b"], reject.flags), "request")).toThrow(
      "unexpected arguments after <request>: b",
    );
    expect(() => parse(["a", "--approver", "carol"], approve.flags)).toThrow(UsageError);
    expect(() => parse(["a", "--groups", "sre"], approve.flags)).toThrow(UsageError);
  });

  it("is in --help, with its own usage", async () => {
    const out: string[] = [];
    const env = { ipEchoUrls: undefined, out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await runAccess(["--help"], env)).toBe(0);
    expect(out.join("")).toMatch(/\n {2}pending {4}.*\n {2}approve {4}.*\n {2}reject {5}/);
    out.length = 0;
    expect(await runAccess(["approve", "--help"], env)).toBe(0);
    expect(out.join("")).toBe(
      "usage: kubectl drawbridge approve <request> [--comment <text>] [--timeout 30s] [-o table|json|yaml]\n",
    );
  });

  it("is listed with pending in the commands and completes request names", async () => {
    expect(Object.keys(COMMANDS)).toEqual(expect.arrayContaining(["pending", "approve", "reject"]));
    const src = { commands: COMMANDS, names: (): Promise<string[]> => Promise.resolve(["alice-x", "bob-y"]) };
    expect(await candidates(["ap"], src)).toEqual(["approve"]);
    expect(await candidates(["approve", "al"], src)).toEqual(["alice-x"]);
    expect(await candidates(["reject", "--c"], src)).toEqual(["--context", "--comment"]);
    expect(await candidates(["pending", ""], src)).toEqual([]);
  });
});

describe("answerable", () => {
  it("lets an eligible approver answer a waiting request", () => {
    expect(answerable(req("a"), policy, bob, "Approve")).toEqual({ ok: true });
    expect(answerable(req("a"), policy, { username: "dave", groups: ["sre"] }, "Reject")).toEqual({
      ok: true,
    });
  });

  it.each([
    ["the requester", req("a"), { username: "alice", groups: ["sre"] }, "would not count: SelfApproval"],
    ["a non-approver", req("a"), { username: "eve", groups: [] }, "would not count: NotAnApprover"],
    [
      "a closed request",
      req("a", { phase: "Denied", reason: "Rejected" }),
      bob,
      "is Denied (Rejected), not waiting",
    ],
    ["an approved request", req("a", { startTime: "2026-12-03T09:50:00Z" }), bob, "is already approved"],
    [
      "a repeat",
      req("a", {
        approvals: [{ name: "a-1", approver: "bob", decision: "Approve", time: "", counted: true }],
      }),
      bob,
      "you already approved accessrequest a (accessapproval a-1, counted)",
    ],
  ])("refuses %s", (_what, r, me, text) => {
    const out = answerable(r, policy, me, "Approve");
    expect(out.ok).toBe(false);
    expect(out.ok ? "" : out.message).toContain(text);
  });

  it("refuses when the policy is gone or approves automatically", () => {
    expect(answerable(req("a"), undefined, bob, "Approve")).toMatchObject({ ok: false });
    const auto = { ...policy, spec: { ...policy.spec, approval: undefined } } as JitPolicy;
    expect(answerable(req("a"), auto, bob, "Approve")).toMatchObject({
      ok: false,
      message: expect.stringContaining("automatically") as unknown,
    });
  });
});

describe("answerOutcome", () => {
  const record = (counted: boolean, reason?: string): AccessRequest["status"] => ({
    approvals: [
      { name: "a-1", approver: "bob", decision: "Approve", time: "", counted, ...(reason ? { reason } : {}) },
    ],
  });

  it("waits until the operator has recorded the answer", () => {
    expect(answerOutcome(req("a"), "a-1")).toBeUndefined();
  });

  it("says how many approvals the request has", () => {
    expect(answerOutcome(req("a", { ...record(true), approvalSummary: "1/2" }), "a-1")).toEqual({
      text: "accessrequest a: waiting for more approvals, approvals 1/2\n",
      toErr: false,
      code: 0,
    });
    const open = req("a", { ...record(true), approvalSummary: "2/2", phase: "Active", reason: "Granted" });
    expect(answerOutcome(open, "a-1")?.text).toBe("accessrequest a: Active, approvals 2/2\n");
  });

  it("says it was rejected, or why the answer does not count", () => {
    const denied = req("a", {
      ...record(true),
      phase: "Denied",
      reason: "Rejected",
      message: "rejected by bob: no",
    });
    expect(answerOutcome(denied, "a-1")?.text).toBe("accessrequest a rejected: rejected by bob: no\n");
    expect(answerOutcome(req("a", record(false, "NotAnApprover")), "a-1")).toEqual({
      text: "accessapproval a-1 does not count: NotAnApprover: the approver is neither a listed user nor in a listed group of spec.approval.approvers\n",
      toErr: true,
      code: 3,
    });
  });
});

describe("pending rendering", () => {
  it("ages in seconds, minutes and hours", () => {
    expect(ageText("2026-12-03T09:59:15Z", NOW)).toBe("45s");
    expect(ageText("2026-12-03T09:47:30Z", NOW)).toBe("12m");
    expect(ageText("2026-12-03T06:55:00Z", NOW)).toBe("3h05m");
    expect(ageText(undefined, NOW)).toBe("?");
  });

  it("prints one row per waiting request", () => {
    expect(pendingRows([req("alice-x")], NOW)).toBe(
      "NAME      REQUESTER   POLICY      PORTS   SOURCE           FOR    APPROVALS   WAITING   JUSTIFICATION\n" +
        "alice-x   alice       web-admin   22      203.0.113.7/32   PT1H   0/2         12m       INC-4711 restart\n",
    );
  });
});

/** A Context over an in-memory API: what was created is recorded. */
function fake(
  requests: AccessRequest[],
  approvals: AccessApproval[] = [],
): {
  ctx: Context;
  created: AccessApproval[];
  out: string[];
  err: string[];
} {
  const created: AccessApproval[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const api: AccessApi = {
    namespace: "team-a",
    whoami: () => Promise.resolve(bob),
    listPolicies: () => Promise.resolve([policy]),
    getPolicy: () => Promise.resolve(policy),
    listRequests: () => Promise.resolve(requests),
    getRequest: (name) => {
      const r = requests.find((x) => x.metadata.name === name);
      if (r === undefined) return Promise.resolve(undefined);
      // The operator records each created answer as counted.
      const seen = created.map((a) => ({
        name: a.metadata.name ?? "",
        approver: a.spec.approver,
        decision: a.spec.decision,
        time: "",
        counted: true,
      }));
      return Promise.resolve({ ...r, status: { ...r.status, approvals: seen, approvalSummary: "1/2" } });
    },
    createRequest: () => Promise.reject(new Error("not here")),
    revokeRequest: () => Promise.reject(new Error("not here")),
    listApprovals: () => Promise.resolve(approvals),
    createApproval: (body) => {
      const a = { ...body, metadata: { ...body.metadata, name: `${body.spec.requestName}-1` } };
      created.push(a);
      return Promise.resolve(a);
    },
  };
  const ctx: Context = {
    api,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    envEchoUrls: [],
    fetcher: () => Promise.reject(new Error("no fetch")),
    sleep: () => Promise.resolve(),
  };
  return { ctx, created, out, err };
}

describe("commands on a fake API", () => {
  it("approve creates an answer in bob's name and groups, and prints the count", async () => {
    const f = fake([req("alice-x")]);
    const code = await approve.run(parse(["alice-x", "--comment", " ok "], approve.flags), f.ctx);
    expect(code).toBe(0);
    expect(f.created[0]?.spec).toEqual({
      requestName: "alice-x",
      requestUID: "uid-alice-x",
      decision: "Approve",
      approver: "bob",
      approverGroups: ["system:authenticated"],
      comment: "ok",
    });
    expect(f.out.join("")).toBe("accessrequest alice-x: waiting for more approvals, approvals 1/2\n");
  });

  it("reject of a request bob may not answer creates nothing, exit 3", async () => {
    const f = fake([req("bob-y", {}, "bob")]);
    expect(await reject.run(parse(["bob-y"], reject.flags), f.ctx)).toBe(3);
    expect(f.created).toEqual([]);
    expect(f.err.join("")).toContain("your rejection (bob) would not count: SelfApproval");
  });

  it("passes an admission refusal through verbatim, exit 3", async () => {
    const f = fake([req("alice-x")]);
    const message =
      "admission webhook denied the request: ValidatingAdmissionPolicy 'drawbridge-approver-is-caller' denied request: spec.approver must equal your user name \"bob\"";
    f.ctx.api.createApproval = () =>
      Promise.reject(Object.assign(new Error("HTTP 403"), { code: 403, body: JSON.stringify({ message }) }));
    expect(await approve.run(parse(["alice-x"], approve.flags), f.ctx)).toBe(3);
    expect(f.err.join("")).toBe(`${message}\nnothing was created\n`);
    expect(f.out).toEqual([]);
  });

  it("pending shows only what waits for bob", async () => {
    const answered: AccessApproval = {
      apiVersion: "jit.drawbridge.dev/v1alpha1",
      kind: "AccessApproval",
      metadata: { name: "c-1", namespace: "team-a" },
      spec: { requestName: "carol-z", requestUID: "uid-carol-z", decision: "Approve", approver: "bob" },
    };
    const f = fake(
      [req("alice-x"), req("bob-y", {}, "bob"), req("carol-z", {}, "carol"), req("old", { phase: "Active" })],
      [answered],
    );
    expect(await pending.run(parse(["-o", "json"], pending.flags), f.ctx)).toBe(0);
    const names = (JSON.parse(f.out.join("")) as AccessRequest[]).map((r) => r.metadata.name);
    expect(names).toEqual(["alice-x"]);
  });
});
