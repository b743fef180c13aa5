// Request context and reply shapes shared by the router and the route handlers.
import type { IncomingHttpHeaders } from "node:http";
import { badRequest } from "./errors.ts";
import type { Core } from "./core.ts";

/** A body already serialized (stored documents cache their JSON; lists join it). */
export class RawJson {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface RequestContext {
  core: Core;
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  apiVersion: string;
  rawBody: string;
}

export function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

/** Parses the JSON body; malformed JSON is InvalidRequestFormat like Network answers it. */
export function jsonBody(ctx: RequestContext): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.rawBody);
  } catch (e) {
    throw badRequest("InvalidRequestFormat", `Cannot parse the request: ${(e as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw badRequest("InvalidRequestFormat", "Cannot parse the request: the body must be a JSON object.");
  }
  return parsed as Record<string, unknown>;
}

export function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
