// --wait: poll the request until it opens or closes, printing each phase change; the exit code says
// how it ended (docs/cli.md).
import type { AccessRequest } from "../../../api/types.ts";
import type { Context } from "../context.ts";
import { EXIT } from "../exit-codes.ts";
import { activeSummary } from "../render.ts";

export const POLL_MS = 1000;

export async function waitForRequest(ctx: Context, name: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const r = await ctx.api.getRequest(name);
    if (r === undefined) {
      ctx.err(`accessrequest ${name} is gone (deleted while waiting)\n`);
      return EXIT.closed;
    }
    const phase = r.status?.phase ?? "Pending";
    const line = `${phase}${r.status?.reason === undefined ? "" : ` (${r.status.reason})`}`;
    if (line !== last) {
      ctx.err(`${new Date().toISOString().slice(11, 19)} ${name}: ${line}\n`);
      last = line;
    }
    const code = await ended(ctx, r);
    if (code !== undefined) return code;
    if (Date.now() >= deadline) {
      ctx.err(
        `gave up waiting after ${Math.round(timeoutMs / 1000)}s; ${name} is still ${phase} (--timeout)\n`,
      );
      return EXIT.timeout;
    }
    await ctx.sleep(POLL_MS);
  }
}

async function ended(ctx: Context, r: AccessRequest): Promise<number | undefined> {
  const s = r.status;
  switch (s?.phase) {
    case "Active":
      ctx.out(activeSummary(r, await ctx.api.getPolicy(r.spec.policyName).catch(() => undefined)));
      return EXIT.ok;
    case "Denied":
      ctx.err(`Denied: ${s.reason ?? ""}: ${s.message ?? ""}\n`);
      return EXIT.denied;
    case "Failed":
    case "Revoked":
    case "Expired":
    case "Superseded":
      ctx.err(`${s.phase}: ${s.reason ?? ""}: ${s.message ?? ""}\n`);
      return EXIT.closed;
    default:
      return undefined;
  }
}
