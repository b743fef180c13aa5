// `list [--all]`: my requests in the namespace (all requesters' with --all), newest last.
import type { Command } from "../context.ts";
import { EXIT } from "../exit-codes.ts";
import { requestRows, structured } from "../render.ts";

export const list: Command = {
  summary: "list my access requests (--all: everyone's)",
  usage: "list [--all] [-o table|json|yaml]",
  flags: { all: { type: "boolean" } },
  run: async (p, ctx) => {
    const all = p.booleans["all"] === true;
    const [requests, me] = await Promise.all([ctx.api.listRequests(), all ? undefined : ctx.api.whoami()]);
    const shown = requests
      .filter((r) => me === undefined || r.spec.requester === me.username)
      .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""));
    const text = structured(shown, p.output);
    if (text !== undefined) ctx.out(text);
    else if (shown.length === 0)
      ctx.err(
        `no access requests${all ? "" : ` of ${me?.username ?? ""}`} in namespace ${ctx.api.namespace}\n`,
      );
    else ctx.out(requestRows(shown, all));
    return EXIT.ok;
  },
};
