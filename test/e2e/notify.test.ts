// Notifications on the real API server, emulator and operator: three JitNotifiers post to local
// HTTP servers, one healthy, one failing every other post, one that never answers. The healthy and
// the flaky one receive every event of each request, in order; grants open as fast as without
// notifiers, and expire on time, whatever the hanging webhook does.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { stringify } from "yaml";
import { buildApprovalManifest } from "../../src/core/approval-manifest.ts";
import { JUMP_NSG, Stack, eventually } from "./harness.ts";

jest.setTimeout(240_000);

interface Received {
  id: string;
  type: string;
  data: { request: string; type: string };
}

/**
 * Keep the first post of each CloudEvent id: a post whose answer came after the attempt timeout
 * (on a loaded machine) is retried and arrives twice with the same id, which is what a
 * receiver de-duplicates on. Distinct ids for one event would still show up as a repeat.
 */
function receive(list: Received[], body: string): void {
  const event = JSON.parse(body) as Received;
  if (!list.some((e) => e.id === event.id)) list.push(event);
}

/** Each webhook post's timeout: what the hanging webhook would cost a grant that waited for it. */
const ATTEMPT_TIMEOUT_MS = 20_000;

let stack: Stack;
const servers: Server[] = [];
const healthy: Received[] = [];
const flaky: Received[] = [];
let flakyCalls = 0;
let hangingCalls = 0;

async function listen(handler: (body: string, reply: (status: number) => void) => void): Promise<string> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      handler(body, (status) => {
        res.writeHead(status).end();
      });
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

function notifierYaml(ns: string, name: string, url: string): string {
  const docs = [
    { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: ns }, stringData: { url } },
    {
      apiVersion: "jit.drawbridge.dev/v1alpha1",
      kind: "JitNotifier",
      metadata: { name, namespace: ns },
      spec: { webhookSecretRef: { name, key: "url" }, format: "CloudEvents" },
    },
  ];
  return docs.map((d) => `---\n${stringify(d)}`).join("");
}

/** Milliseconds from creating a request to its phase Active. */
async function timeToActive(source: string, policyName = "web-admin"): Promise<{ name: string; ms: number }> {
  const t0 = Date.now();
  const name = await stack.createRequest({ policyName, sourceAddressPrefix: source, duration: "PT20S" });
  await eventually(
    "Active",
    async () => ((await stack.phaseOf(name)) === "Active" ? true : undefined),
    60_000,
    50,
  );
  return { name, ms: Date.now() - t0 };
}

function typesFor(list: Received[], request: string): string[] {
  return list.filter((r) => r.data.request === request).map((r) => r.data.type);
}

beforeAll(async () => {
  stack = await Stack.start("notify");
  // bob answers requests here (the policy below names him).
  await stack.kubectlOk([
    "create",
    "role",
    "approver",
    "-n",
    stack.ns,
    "--verb=create,get",
    "--resource=accessapprovals.jit.drawbridge.dev",
  ]);
  await stack.kubectlOk([
    "create",
    "rolebinding",
    "bob-approver",
    "-n",
    stack.ns,
    "--role=approver",
    "--user=bob",
  ]);
  stack.startOperator({
    extraArgs: [`--notify-attempt-timeout=${String(ATTEMPT_TIMEOUT_MS)}ms`, "--notify-expiring-lead=5s"],
  });
  await stack.applyPolicy();
  await stack.applyPolicy((doc) => {
    (doc.metadata as Record<string, unknown>).name = "approved-by-bob";
    (doc.spec as Record<string, unknown>).approval = { required: 1, approvers: { users: ["bob"] } };
    // Its own band: overlapping bands on one NSG are a PriorityConflict.
    (doc.spec as Record<string, unknown>).priorityRange = { from: 200, to: 219 };
  });
}, 1_800_000);

afterAll(async () => {
  await stack.stop();
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) s.close();
});

describe("notifications", () => {
  test("in order, nothing lost, grant latency unaffected by a flaky and a hanging webhook", async () => {
    // Without notifiers: the bound to stay within (after one warm-up grant: the first pays for the
    // operator's first NSG reads).
    await timeToActive("203.0.113.19/32");
    const baseline = await timeToActive("203.0.113.20/32");

    const ok = await listen((body, reply) => {
      receive(healthy, body);
      reply(200);
    });
    const half = await listen((body, reply) => {
      flakyCalls++;
      if (flakyCalls % 2 === 1) {
        reply(500);
        return;
      }
      receive(flaky, body);
      reply(202);
    });
    const hang = await listen(() => {
      hangingCalls++;
      // Never answers.
    });
    const input = [
      notifierYaml(stack.ns, "healthy", ok),
      notifierYaml(stack.ns, "flaky", half),
      notifierYaml(stack.ns, "hanging", hang),
    ].join("");
    await stack.kubectlOk(["apply", "-f", "-"], { input });
    // The informer has the notifiers once a request's first event reaches the healthy hook.
    const probe = await timeToActive("203.0.113.21/32");
    await eventually(
      "the healthy hook to hear of the probe",
      () => typesFor(healthy, probe.name).length >= 3,
    );

    const timed = await timeToActive("203.0.113.22/32");
    const waiting = await stack.createRequest({
      policyName: "approved-by-bob",
      sourceAddressPrefix: "203.0.113.23/32",
    });
    await eventually("AwaitingApproval", async () =>
      (await stack.getRequest(waiting))?.status?.reason === "AwaitingApproval" ? true : undefined,
    );
    const r = await stack.getRequest(waiting);
    const reject = buildApprovalManifest({
      request: r as never,
      decision: "Reject",
      user: "bob",
      groups: [],
    });
    await stack.kubectlOk(["create", "-f", "-"], { as: "bob", input: stringify(reject) });

    process.stdout.write(
      `notify e2e: time to Active without notifiers ${baseline.ms} ms, with a flaky and a hanging webhook ${timed.ms} ms\n`,
    );
    // Held by the hanging webhook, it would take at least one attempt timeout longer; load on the
    // machine may slow it by seconds, never by half of that.
    expect(timed.ms).toBeLessThan(baseline.ms + ATTEMPT_TIMEOUT_MS / 2);
    expect(stack.allowsFor(JUMP_NSG, 22, "203.0.113.22/32")).toHaveLength(1);

    const full = ["Requested", "Approved", "Opened", "ExpiringSoon", "Closed"];
    await eventually(
      "every event of the timed request at the healthy and the flaky hook",
      () =>
        typesFor(healthy, timed.name).length >= full.length &&
        typesFor(flaky, timed.name).length >= full.length,
      60_000,
    );
    expect(typesFor(healthy, timed.name)).toEqual(full);
    expect(typesFor(flaky, timed.name)).toEqual(full);
    // The grant expired on time, hanging webhook or not.
    expect(stack.allowsFor(JUMP_NSG, 22, "203.0.113.22/32")).toEqual([]);
    expect(hangingCalls).toBeGreaterThan(0);
    expect(flakyCalls).toBeGreaterThan(flaky.length);
    // A CloudEvent per post.
    expect(healthy.every((e) => e.type.startsWith("dev.drawbridge.accessrequest."))).toBe(true);
    await eventually("the rejected request's events", () => typesFor(healthy, waiting).length >= 3);
    expect(typesFor(healthy, waiting)).toEqual(["Requested", "AwaitingApproval", "Rejected"]);
  });
});
