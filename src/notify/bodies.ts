// Message bodies for the three webhook formats. Pure: the same notification always gives the same
// body, so receivers can de-duplicate on the CloudEvents id (or the Slack/Teams text).
import type { NotifierFormat } from "../api/types.ts";
import type { Notification } from "./types.ts";

export const CLOUDEVENT_TYPE_PREFIX = "dev.drawbridge.accessrequest.";

/** CloudEvents 1.0, structured JSON mode (Content-Type application/cloudevents+json). */
export function cloudEvent(n: Notification): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: n.id,
    source: `/apis/jit.drawbridge.dev/v1alpha1/namespaces/${n.namespace}/accessrequests/${n.request}`,
    type: `${CLOUDEVENT_TYPE_PREFIX}${n.type.toLowerCase()}`,
    subject: n.request,
    time: n.time,
    datacontenttype: "application/json",
    data: { ...n },
  };
}

/** One line a person reads: what happened, to which request, for whom. */
export function summaryLine(n: Notification): string {
  const what: Record<Notification["type"], string> = {
    Requested: "requested access",
    AwaitingApproval: "waits for approval",
    Approved: "was approved",
    Rejected: "was rejected",
    Denied: "was denied",
    Opened: "is open",
    ExpiringSoon: "expires soon",
    Closed: "was closed",
  };
  const who = `${n.requester} (${n.namespace}/${n.request}, policy ${n.policy})`;
  const ports = `ports ${n.ports.join(",")} from ${n.sourceAddressPrefix}`;
  const extra = [
    n.approvals === undefined ? "" : `approvals ${n.approvals}`,
    n.expiresAt === undefined ? "" : `until ${n.expiresAt}`,
    n.reason === undefined ? "" : `${n.reason}${n.message === undefined ? "" : `: ${n.message}`}`,
  ].filter((s) => s !== "");
  const head = n.type === "Requested" ? `${who} ${what[n.type]}` : `AccessRequest of ${who} ${what[n.type]}`;
  return `${head}; ${ports}${extra.length === 0 ? "" : `; ${extra.join("; ")}`}`;
}

/** A Slack incoming-webhook body (text plus one section block; mrkdwn escaped). */
export function slackBody(n: Notification): Record<string, unknown> {
  const text = escapeSlack(summaryLine(n));
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${n.type}*: ${text}` } },
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: `justification: ${escapeSlack(n.justification)}` }],
      },
    ],
  };
}

/** A Teams (Workflows / incoming webhook) body: one Adaptive Card. */
export function teamsBody(n: Notification): Record<string, unknown> {
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", weight: "Bolder", text: `drawbridge: ${n.type}` },
            { type: "TextBlock", wrap: true, text: summaryLine(n) },
            {
              type: "FactSet",
              facts: [
                { title: "Requester", value: n.requester },
                { title: "Request", value: `${n.namespace}/${n.request}` },
                { title: "Justification", value: n.justification },
              ],
            },
          ],
        },
      },
    ],
  };
}

export function bodyFor(format: NotifierFormat, n: Notification): { contentType: string; body: string } {
  switch (format) {
    case "Slack":
      return { contentType: "application/json", body: JSON.stringify(slackBody(n)) };
    case "Teams":
      return { contentType: "application/json", body: JSON.stringify(teamsBody(n)) };
    case "CloudEvents":
      return { contentType: "application/cloudevents+json", body: JSON.stringify(cloudEvent(n)) };
  }
}

function escapeSlack(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
