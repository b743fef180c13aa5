// `pending`: the requests in the namespace that wait for my answer: Pending under a policy that
// needs approval, with me an eligible approver (by name or by a group the API server says I am in),
// and not yet answered by me. Oldest first.
import { pendingFor } from "../../../core/approval-manifest.ts";
import type { Command } from "../context.ts";
import { EXIT } from "../exit-codes.ts";
import { structured } from "../render.ts";
import { pendingRows } from "../render-approvals.ts";

export const pending: Command = {
  summary: "what waits for my approval here",
  usage: "pending [-o table|json|yaml]",
  flags: {},
  run: async (p, ctx) => {
    const [me, requests, policies, approvals] = await Promise.all([
      ctx.api.whoami(),
      ctx.api.listRequests(),
      ctx.api.listPolicies(),
      ctx.api.listApprovals(),
    ]);
    const waiting = pendingFor({ user: me.username, groups: me.groups, requests, policies, approvals });
    const text = structured(waiting, p.output);
    if (text !== undefined) ctx.out(text);
    else if (waiting.length === 0)
      ctx.err(`nothing waits for ${me.username}'s approval in namespace ${ctx.api.namespace}\n`);
    else ctx.out(pendingRows(waiting, new Date()));
    return EXIT.ok;
  },
};
