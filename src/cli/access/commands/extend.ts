// `extend <name> --for 30m`: a renewal (ADR 0013). A new request with the same requester, policy,
// targets, ports and source names the older one in spec.supersedes; once it is Active the older
// becomes Superseded and the NSG rule never closes in between.
import type { AccessRequest } from "../../../api/types.ts";
import { API_GROUP_VERSION } from "../../../api/types.ts";
import { onePositional } from "../args.ts";
import type { Command } from "../context.ts";
import { EXIT } from "../exit-codes.ts";
import { precheck } from "../precheck.ts";
import { WAIT_FLAGS, createAndWait, durationOf, newRequestMetadata } from "./request.ts";

export const extend: Command = {
  summary: "renew an Active request for longer: extend <request> --for 30m [--wait]",
  usage:
    "extend <request> --for <30m|1h|PT1H> [--reason <text>] [--wait [--timeout 5m]] [-o table|json|yaml]",
  flags: { for: { type: "string" }, reason: { type: "string" }, ...WAIT_FLAGS },
  run: async (p, ctx) => {
    const name = onePositional(p, "request");
    const duration = durationOf(p);
    const older = await ctx.api.getRequest(name);
    if (older === undefined) {
      ctx.err(`accessrequest ${name} not found in namespace ${ctx.api.namespace}\n`);
      return EXIT.error;
    }
    const [me, policy] = await Promise.all([ctx.api.whoami(), ctx.api.getPolicy(older.spec.policyName)]);
    const o = older.spec;
    const body: AccessRequest = {
      apiVersion: API_GROUP_VERSION,
      kind: "AccessRequest",
      metadata: newRequestMetadata(me.username, ctx.api.namespace),
      spec: {
        policyName: o.policyName,
        ...(o.targets === undefined ? {} : { targets: [...o.targets] }),
        ports: [...o.ports],
        sourceAddressPrefix: o.sourceAddressPrefix,
        duration: duration.iso,
        justification: p.strings["reason"] ?? o.justification,
        // Whoever extends asks in their own name; the operator renews only the same requester's grant.
        requester: me.username,
        supersedes: name,
      },
    };
    const check = precheck(body, policy, { request: older, now: new Date(), durationMs: duration.ms });
    return createAndWait(p, ctx, body, check);
  },
};
