// The request pipeline: admin surface, fault injection, authentication, api-version, routing,
// throttling, resource-group checks, read latency, handler, and ARM's response headers.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { sleep, type Core } from "./core.ts";
import { ArmError } from "./errors.ts";
import { drawFault, faultError } from "./faults.ts";
import { RawJson, type Reply, type RequestContext } from "./http.ts";
import { route, type Route } from "./router.ts";

const MAX_BODY = 16 * 1024 * 1024;
const API_VERSION_RE = /^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha)?$/;

export type AdminHandler = (method: string, url: URL, body: string) => Reply | Promise<Reply>;

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ArmError(413, "RequestEntityTooLarge", `The request body exceeds ${MAX_BODY} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

function authenticate(core: Core, req: IncomingMessage): void {
  if (!core.requireToken) return;
  const auth = req.headers.authorization;
  const challenge = {
    "WWW-Authenticate": `Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
  };
  if (auth === undefined || auth === "") {
    throw new ArmError(
      401,
      "AuthenticationFailed",
      "Authentication failed. The 'Authorization' header is missing.",
      { headers: challenge },
    );
  }
  const m = /^Bearer\s+(\S+)$/i.exec(auth);
  if (m === null) {
    throw new ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.", {
      headers: challenge,
    });
  }
}

function apiVersionOf(url: URL): string {
  const v = url.searchParams.get("api-version");
  if (v === null || v === "") {
    throw new ArmError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  }
  if (!API_VERSION_RE.test(v)) {
    throw new ArmError(
      400,
      "InvalidApiVersionParameter",
      `The api-version '${v}' is invalid. The supported versions are dates like '2024-05-01'.`,
    );
  }
  return v;
}

function checkScope(core: Core, r: Route): void {
  if (!core.store.hasSubscription(r.subscriptionId)) {
    throw new ArmError(
      404,
      "SubscriptionNotFound",
      `The subscription '${r.subscriptionId}' could not be found.`,
    );
  }
  if (r.resourceGroup !== undefined && !core.store.hasResourceGroup(r.subscriptionId, r.resourceGroup)) {
    throw new ArmError(
      404,
      "ResourceGroupNotFound",
      `Resource group '${r.resourceGroup}' could not be found.`,
    );
  }
}

async function armReply(
  core: Core,
  req: IncomingMessage,
  url: URL,
  rawBody: string,
  headers: Record<string, string>,
): Promise<Reply> {
  authenticate(core, req);
  const apiVersion = apiVersionOf(url);
  const method = (req.method ?? "GET").toUpperCase();
  const r = route(method, url.pathname);
  core.stats.count(r.operation, r.isWrite);
  const t = core.throttle.admit(r.subscriptionId, r.isWrite);
  headers["x-ms-ratelimit-remaining-subscription-reads"] = String(t.remainingReads);
  headers["x-ms-ratelimit-remaining-subscription-writes"] = String(t.remainingWrites);
  if (t.retryAfterSec > 0) {
    core.stats.countThrottled(r.isWrite);
    throw new ArmError(
      429,
      "SubscriptionRequestsThrottled",
      `Number of '${r.isWrite ? "write" : "read"}' requests for subscription '${r.subscriptionId}' exceeded the limit. Please try again after '${t.retryAfterSec}' seconds.`,
      { headers: { "Retry-After": String(t.retryAfterSec) } },
    );
  }
  const { rate429, rate500, rate503 } = core.faults;
  const fault = drawFault({ rate429, rate500, rate503 });
  if (fault === "429" || fault === "500" || fault === "503") {
    core.stats.countFault(fault);
    throw faultError(fault, r.subscriptionId);
  }
  checkScope(core, r);
  if (!r.isWrite) await sleep(core.latency.read);
  const ctx: RequestContext = { core, method, url, headers: req.headers, apiVersion, rawBody };
  return r.run(ctx);
}

function send(res: ServerResponse, reply: Reply, headers: Record<string, string>): void {
  if (res.destroyed) return;
  const all = { ...headers, ...(reply.headers ?? {}) };
  if (reply.body === undefined) {
    res.writeHead(reply.status, all);
    res.end();
    return;
  }
  const text = reply.body instanceof RawJson ? reply.body.text : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...all,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

function errorReply(e: unknown): Reply {
  if (e instanceof ArmError) return { status: e.status, headers: e.headers, body: e.body() };
  return { status: 500, body: { error: { code: "InternalServerError", message: (e as Error).message } } };
}

/** Applies drop/timeout faults; returns true when the request was consumed by one. */
async function transportFault(core: Core, req: IncomingMessage): Promise<boolean> {
  const fault = drawFault({ rateDrop: core.faults.rateDrop, rateTimeout: core.faults.rateTimeout });
  if (fault !== undefined) core.stats.countFault(fault);
  if (fault === "drop") {
    req.socket.destroy();
    return true;
  }
  if (fault === "timeout") {
    await sleep(core.faults.timeoutMs ?? 30_000);
    req.socket.destroy();
    return true;
  }
  return false;
}

export async function handleRequest(
  core: Core,
  admin: AdminHandler,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", core.endpoint);
  const requestId = randomUUID();
  const corr = req.headers["x-ms-correlation-request-id"];
  const headers: Record<string, string> = {
    "x-ms-request-id": requestId,
    "x-ms-correlation-request-id": typeof corr === "string" ? corr : requestId,
    "Cache-Control": "no-cache",
  };
  let reply: Reply;
  try {
    const rawBody = await readBody(req);
    if (url.pathname.startsWith("/_emulator/")) {
      reply = await admin((req.method ?? "GET").toUpperCase(), url, rawBody);
    } else {
      if (await transportFault(core, req)) return;
      reply = await armReply(core, req, url, rawBody, headers);
    }
  } catch (e) {
    reply = errorReply(e);
    if (!url.pathname.startsWith("/_emulator/")) {
      core.stats.countError(reply.status, e instanceof ArmError ? e.code : "InternalServerError");
    }
  }
  send(res, reply, headers);
}
