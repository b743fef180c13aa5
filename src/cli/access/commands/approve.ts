// `approve <request> [--comment]` and `reject <request> [--comment]`: an AccessApproval in my name
// (user and groups from the SelfSubjectReview, never typed), after checking that it can count; then
// what the request shows once the operator has counted it (e.g. approvals 1/2, or rejected).
import type { ApprovalDecision } from "../../../api/types.ts";
import { buildApprovalManifest } from "../../../core/approval-manifest.ts";
import { answerable } from "../answerable.ts";
import { onePositional, UsageError } from "../args.ts";
import type { Parsed } from "../args.ts";
import { apiErrorText } from "../client.ts";
import type { Command, Context } from "../context.ts";
import { parseHumanDuration } from "../duration.ts";
import { EXIT } from "../exit-codes.ts";
import { structured } from "../render.ts";
import { answerOutcome } from "../render-approvals.ts";
import { POLL_MS } from "./wait.ts";

/** How long to wait for the operator to record the answer, unless --timeout says otherwise. */
export const DEFAULT_ANSWER_TIMEOUT = "30s";

function answerCommand(decision: ApprovalDecision): Command {
  const verb = decision === "Approve" ? "approve" : "reject";
  return {
    summary:
      decision === "Approve"
        ? "approve a request waiting for you: approve <request> [--comment ...]"
        : "reject a request waiting for you (one eligible rejection denies it)",
    usage: `${verb} <request> [--comment <text>] [--timeout 30s] [-o table|json|yaml]`,
    flags: { comment: { type: "string" }, timeout: { type: "string" } },
    run: (p, ctx) => answer(p, ctx, decision),
  };
}

export const approve = answerCommand("Approve");
export const reject = answerCommand("Reject");

async function answer(p: Parsed, ctx: Context, decision: ApprovalDecision): Promise<number> {
  const name = onePositional(p, "request");
  const timeout = parseHumanDuration(p.strings["timeout"] ?? DEFAULT_ANSWER_TIMEOUT);
  if (!timeout.ok) throw new UsageError(timeout.error.replace("--for", "--timeout"));
  const request = await ctx.api.getRequest(name);
  if (request === undefined) {
    ctx.err(`accessrequest ${name} not found in namespace ${ctx.api.namespace}\n`);
    return EXIT.error;
  }
  const [me, policy] = await Promise.all([ctx.api.whoami(), ctx.api.getPolicy(request.spec.policyName)]);
  const check = answerable(request, policy, me, decision);
  if (!check.ok) {
    ctx.err(`${check.message}\nnothing was created\n`);
    return EXIT.denied;
  }
  const manifest = buildApprovalManifest({
    request,
    decision,
    user: me.username,
    groups: me.groups,
    ...(p.strings["comment"] === undefined ? {} : { comment: p.strings["comment"] }),
  });
  let created: string;
  try {
    created = (await ctx.api.createApproval(manifest)).metadata.name ?? "";
  } catch (err) {
    const code = (err as { code?: number } | undefined)?.code;
    if (code !== 403 && code !== 422) throw err;
    // Admission (the approver-is-caller policy) or RBAC said no: its words, unchanged.
    ctx.err(`${apiErrorText(err)}\nnothing was created\n`);
    return EXIT.denied;
  }
  ctx.err(`accessapproval ${created} created (${decision} ${name} as ${me.username})\n`);
  return follow(p, ctx, name, created, timeout.ms);
}

/** Poll the request until the operator has recorded the answer, then print what it shows. */
async function follow(p: Parsed, ctx: Context, name: string, approval: string, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await ctx.api.getRequest(name);
    if (r === undefined) {
      ctx.err(`accessrequest ${name} is gone (deleted)\n`);
      return EXIT.closed;
    }
    const outcome = answerOutcome(r, approval);
    if (outcome !== undefined) {
      const shown = structured(r, p.output);
      if (shown !== undefined) ctx.out(shown);
      if (shown !== undefined || outcome.toErr) ctx.err(outcome.text);
      else ctx.out(outcome.text);
      return outcome.code;
    }
    if (Date.now() >= deadline) {
      ctx.err(
        `the operator has not recorded accessapproval ${approval} within ${Math.round(ms / 1000)}s; ` +
          `see kubectl drawbridge describe ${name}\n`,
      );
      return EXIT.timeout;
    }
    await ctx.sleep(POLL_MS);
  }
}
