// `describe <name>`: one request with its rules, conditions and renewal chain.
import { onePositional } from "../args.ts";
import type { Command } from "../context.ts";
import { EXIT } from "../exit-codes.ts";
import { describeRequest, structured } from "../render.ts";

export const describe: Command = {
  summary: "show one access request: phase, rules, conditions",
  usage: "describe <request> [-o table|json|yaml]",
  flags: {},
  run: async (p, ctx) => {
    const name = onePositional(p, "request");
    const r = await ctx.api.getRequest(name);
    if (r === undefined) {
      ctx.err(`accessrequest ${name} not found in namespace ${ctx.api.namespace}\n`);
      return EXIT.error;
    }
    ctx.out(structured(r, p.output) ?? describeRequest(r));
    return EXIT.ok;
  },
};
