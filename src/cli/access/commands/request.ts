// `request <policy> --port 22 (--my-ip | --source <ip>) --for 1h --reason "..." [--target vm] [--wait]`
import type { AccessRequest } from "../../../api/types.ts";
import { API_GROUP_VERSION, FINALIZER } from "../../../api/types.ts";
import { onePositional, parsePorts, UsageError } from "../args.ts";
import type { Parsed } from "../args.ts";
import type { Command, Context } from "../context.ts";
import { parseHumanDuration } from "../duration.ts";
import { EXIT } from "../exit-codes.ts";
import { DEFAULT_ECHO_TIMEOUT_MS, DEFAULT_IP_ECHO_URLS, findMyIp } from "../ip-echo.ts";
import { precheck } from "../precheck.ts";
import { structured } from "../render.ts";
import { resolveTargets } from "./targets.ts";
import { waitForRequest } from "./wait.ts";

export const WAIT_FLAGS = {
  wait: { type: "boolean" },
  timeout: { type: "string" },
} as const;

export const request: Command = {
  summary: "ask for access: request <policy> --port 22 --my-ip --for 1h --reason ... [--wait]",
  usage:
    "request <policy> --port <n> [--port <n>...] (--my-ip | --source <ip|cidr>) --for <90m|1h|PT1H> --reason <text>\n" +
    "        [--target <vm name or ARM id>...] [--ip-echo-url <url>...] [--wait [--timeout 5m]] [-o table|json|yaml]",
  flags: {
    port: { type: "string", multiple: true },
    target: { type: "string", multiple: true },
    "my-ip": { type: "boolean" },
    source: { type: "string" },
    "ip-echo-url": { type: "string", multiple: true },
    for: { type: "string" },
    reason: { type: "string" },
    ...WAIT_FLAGS,
  },
  run: async (p, ctx) => {
    const policyName = onePositional(p, "policy");
    const ports = parsePorts(p.lists["port"] ?? []);
    if (ports.length === 0) throw new UsageError("--port is required (e.g. --port 22)");
    const duration = durationOf(p);
    const reason = p.strings["reason"];
    if (reason === undefined || reason.trim() === "")
      throw new UsageError('--reason is required (e.g. --reason "INC-4711 ...")');
    const source = await sourceOf(p, ctx);
    if (typeof source === "number") return source;
    const [me, policy] = await Promise.all([ctx.api.whoami(), ctx.api.getPolicy(policyName)]);
    const targets = resolveTargets(p.lists["target"] ?? [], policy);
    const body: AccessRequest = {
      apiVersion: API_GROUP_VERSION,
      kind: "AccessRequest",
      metadata: newRequestMetadata(me.username, ctx.api.namespace),
      spec: {
        policyName,
        ...(targets === undefined ? {} : { targets }),
        ports,
        sourceAddressPrefix: source,
        duration: duration.iso,
        justification: reason,
        requester: me.username,
      },
    };
    return createAndWait(p, ctx, body, precheck(body, policy));
  },
};

export function durationOf(p: Parsed): { iso: string; ms: number } {
  const text = p.strings["for"];
  if (text === undefined) throw new UsageError("--for is required (e.g. --for 1h, 90m, PT1H)");
  const d = parseHumanDuration(text);
  if (!d.ok) throw new UsageError(d.error);
  return d;
}

/** Create the request unless the precheck refuses it, print it, and with --wait follow it. */
export async function createAndWait(
  p: Parsed,
  ctx: Context,
  body: AccessRequest,
  check: ReturnType<typeof precheck>,
): Promise<number> {
  if (!check.ok) {
    ctx.err(
      `refused by policy ${body.spec.policyName} (${check.reason}): ${check.message}\nnothing was created\n`,
    );
    return EXIT.denied;
  }
  const created = await ctx.api.createRequest(body);
  const name = created.metadata.name ?? "";
  ctx.out(
    structured(created, p.output) ??
      `accessrequest ${name} created (${body.spec.sourceAddressPrefix}, ports ${body.spec.ports.join(",")}, ${body.spec.duration})\n`,
  );
  if (!p.booleans["wait"]) return EXIT.ok;
  const timeout = parseHumanDuration(p.strings["timeout"] ?? "5m");
  if (!timeout.ok) throw new UsageError(timeout.error.replace("--for", "--timeout"));
  return waitForRequest(ctx, name, timeout.ms);
}

async function sourceOf(p: Parsed, ctx: Context): Promise<string | number> {
  const given = p.strings["source"];
  const mine = p.booleans["my-ip"] === true;
  if (mine === (given !== undefined))
    throw new UsageError("give exactly one of --my-ip and --source <ip or cidr>");
  if (given !== undefined) return given.includes("/") ? given : `${given}/${given.includes(":") ? 128 : 32}`;
  const urls = [...(p.lists["ip-echo-url"] ?? [])];
  const list = urls.length > 0 ? urls : ctx.envEchoUrls.length > 0 ? ctx.envEchoUrls : DEFAULT_IP_ECHO_URLS;
  try {
    const prefix = await findMyIp(list, ctx.fetcher, DEFAULT_ECHO_TIMEOUT_MS);
    ctx.err(`your public address: ${prefix}\n`);
    return prefix;
  } catch (err) {
    ctx.err(`${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.myIp;
  }
}

/**
 * A new request's metadata. It carries drawbridge's finalizer from its creation (ADR 0022): the
 * operator would add it first thing, one more API server write before the grant could show Active.
 */
export function newRequestMetadata(username: string, namespace: string): AccessRequest["metadata"] {
  return { generateName: `${nameStem(username)}-`, namespace, finalizers: [FINALIZER] };
}

/** A generateName stem from the user name: "alice@example.com" -> "alice-example-com". */
export function nameStem(username: string): string {
  const stem = username
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return stem === "" ? "request" : stem.replace(/-+$/, "");
}
