// The notification sink's pure parts and its queue: message bodies, backoff, ordering, retries,
// the per-attempt timeout and the bound (with an injected post, no network).
import { describe, expect, it } from "@jest/globals";
import { backoffMs, retryableStatus } from "../../../src/notify/backoff.ts";
import { bodyFor, cloudEvent, slackBody, summaryLine, teamsBody } from "../../../src/notify/bodies.ts";
import { WebhookSink } from "../../../src/notify/sink.ts";
import type { Post } from "../../../src/notify/sink.ts";
import type { Notification } from "../../../src/notify/types.ts";

function note(type: Notification["type"], id: string = type): Notification {
  return {
    type,
    id,
    time: "2026-01-01T00:00:00.000Z",
    namespace: "team-a",
    request: "alice-x",
    uid: "u-1",
    policy: "web-admin",
    requester: "alice",
    ports: [22],
    sourceAddressPrefix: "203.0.113.7/32",
    justification: "INC-1 <fix> & more",
    approvals: "1/2",
  };
}

describe("bodies", () => {
  it("CloudEvents 1.0 structured", () => {
    const e = cloudEvent(note("Approved"));
    expect(e).toMatchObject({
      specversion: "1.0",
      id: "Approved",
      type: "dev.drawbridge.accessrequest.approved",
      source: "/apis/jit.drawbridge.dev/v1alpha1/namespaces/team-a/accessrequests/alice-x",
      subject: "alice-x",
      time: "2026-01-01T00:00:00.000Z",
      datacontenttype: "application/json",
    });
    expect((e.data as Notification).requester).toBe("alice");
    expect(bodyFor("CloudEvents", note("Opened")).contentType).toBe("application/cloudevents+json");
  });
  it("Slack escapes mrkdwn control characters; Teams is an Adaptive Card", () => {
    const s = JSON.stringify(slackBody(note("AwaitingApproval")));
    expect(s).toContain("&lt;fix&gt; &amp; more");
    expect(s).not.toContain("<fix>");
    const t = teamsBody(note("Rejected")) as { attachments: { contentType: string }[] };
    expect(t.attachments[0]?.contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(summaryLine(note("Requested"))).toBe(
      "alice (team-a/alice-x, policy web-admin) requested access; ports 22 from 203.0.113.7/32; approvals 1/2",
    );
  });
});

describe("backoff", () => {
  it("grows exponentially under a cap, with full jitter", () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect(backoffMs(1, o, () => 0.999)).toBe(99);
    expect(backoffMs(3, o, () => 0.999)).toBe(399);
    expect(backoffMs(10, o, () => 0.999)).toBe(999);
    expect(backoffMs(4, o, () => 0)).toBe(0);
  });
  it("retries throttling and server errors, not client errors", () => {
    expect([408, 429, 500, 503].every(retryableStatus)).toBe(true);
    expect([400, 401, 404].some(retryableStatus)).toBe(false);
  });
});

function sink(post: Post, over: Partial<ConstructorParameters<typeof WebhookSink>[0]> = {}): WebhookSink {
  return new WebhookSink({
    format: "CloudEvents",
    url: () => Promise.resolve("http://hook.invalid/x"),
    capacity: 100,
    attemptTimeoutMs: 50,
    maxAttempts: 5,
    backoff: { baseMs: 1, maxMs: 5 },
    post,
    ...over,
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe("WebhookSink", () => {
  it("delivers in order, retrying a webhook that fails every other time", async () => {
    const got: string[] = [];
    let calls = 0;
    const s = sink((_url, init) => {
      calls++;
      if (calls % 2 === 1) return Promise.resolve({ status: 503 });
      got.push((JSON.parse(init.body) as { id: string }).id);
      return Promise.resolve({ status: 204 });
    });
    for (const id of ["1", "2", "3", "4"]) expect(s.enqueue(note("Opened", id))).toBe(true);
    await until(() => got.length === 4);
    expect(got).toEqual(["1", "2", "3", "4"]);
    expect(calls).toBe(8);
  });
  it("times out a hanging post, and enqueue never waits", async () => {
    const drops: string[] = [];
    const s = sink(
      (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal.addEventListener("abort", () => {
            reject(init.signal.reason as Error);
          });
        }),
      { maxAttempts: 2, onDrop: (n, reason) => drops.push(`${n.id}:${reason}`) },
    );
    // Queued and answered synchronously (a boolean, not a promise): the hanging post is not awaited.
    const queued: unknown = s.enqueue(note("Opened", "a"));
    expect(queued).toBe(true);
    await until(() => drops.length === 1);
    expect(drops).toEqual(["a:AttemptsExhausted"]);
  });
  it("drops the newest when the queue is full, and gives up on a client error at once", async () => {
    const drops: string[] = [];
    let calls = 0;
    const s = sink(
      () => {
        calls++;
        return Promise.resolve({ status: 400 });
      },
      { capacity: 2, onDrop: (n, reason) => drops.push(`${n.id}:${reason}`) },
    );
    s.enqueue(note("Opened", "1"));
    s.enqueue(note("Opened", "2"));
    expect(s.enqueue(note("Opened", "3"))).toBe(false);
    await until(() => drops.length === 3);
    expect(drops).toEqual(["3:QueueFull", "1:AttemptsExhausted", "2:AttemptsExhausted"]);
    expect(calls).toBe(2);
  });
});
