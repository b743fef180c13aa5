// `policies`: what may I open here: each policy's targets, ports, longest grant, allowed sources and
// renewal caps.
import type { Command } from "../context.ts";
import { EXIT } from "../exit-codes.ts";
import { policyRows, structured } from "../render.ts";

export const policies: Command = {
  summary: "what may I open: policies, targets, ports, max durations, sources",
  usage: "policies [-o table|json|yaml]",
  flags: {},
  run: async (p, ctx) => {
    const all = await ctx.api.listPolicies();
    const text = structured(all, p.output);
    if (text !== undefined) ctx.out(text);
    else if (all.length === 0) ctx.err(`no JitPolicies in namespace ${ctx.api.namespace}\n`);
    else ctx.out(policyRows(all));
    return EXIT.ok;
  },
};
