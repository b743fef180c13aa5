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
    // ARM writes `$skiptoken` literally (not %24-encoded).
    const version = encodeURIComponent(ctx.apiVersion);
    body.nextLink = `${ctx.core.endpoint}${ctx.url.pathname}?api-version=${version}&$skiptoken=${start + size}`;
  }
  return { status: 200, body };
}
