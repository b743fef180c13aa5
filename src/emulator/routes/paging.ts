// ARM list paging: `value` plus a `nextLink` carrying `$skiptoken` while more items remain.
import type { RequestContext, Reply } from "../http.ts";

export function paged(ctx: RequestContext, items: Iterable<unknown>): Reply {
  const size = ctx.core.pageSize;
  const token = ctx.url.searchParams.get("$skiptoken");
  const start = token !== null && /^\d+$/.test(token) ? Number(token) : 0;
  const value: unknown[] = [];
  let index = 0;
  let more = false;
  for (const item of items) {
    if (index >= start + size) {
      more = true;
      break;
    }
    if (index >= start) value.push(item);
    index += 1;
  }
  const body: { value: unknown[]; nextLink?: string } = { value };
  if (more) {
    const next = new URL(ctx.url.pathname, ctx.core.endpoint);
    next.searchParams.set("api-version", ctx.apiVersion);
    next.searchParams.set("$skiptoken", String(start + size));
    body.nextLink = next.toString();
  }
  return { status: 200, body };
}
