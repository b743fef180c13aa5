// `revoke <name>`: spec.revoked=true; the operator closes the rule and marks the request Revoked.
import { onePositional } from "../args.ts";
import type { Command } from "../context.ts";
import { EXIT } from "../exit-codes.ts";
import { structured } from "../render.ts";

export const revoke: Command = {
  summary: "close access now (spec.revoked=true)",
  usage: "revoke <request> [-o table|json|yaml]",
  flags: {},
  run: async (p, ctx) => {
    const name = onePositional(p, "request");
    if ((await ctx.api.getRequest(name)) === undefined) {
      ctx.err(`accessrequest ${name} not found in namespace ${ctx.api.namespace}\n`);
      return EXIT.error;
    }
    const r = await ctx.api.revokeRequest(name);
    ctx.out(structured(r, p.output) ?? `accessrequest ${name} revoked; the operator removes its rules now\n`);
    return EXIT.ok;
  },
};
