// ARM list paging: `value` plus a `nextLink` carrying `$skiptoken` while more items remain.
import { RawJson, type Reply, type RequestContext } from "../http.ts";

/** With `serialize`, items are joined from their cached JSON instead of re-serialized. */
export function paged<T>(ctx: RequestContext, items: Iterable<T>, serialize?: (item: T) => string): Reply {
  const size = ctx.core.pageSize;
  const token = ctx.url.searchParams.get("$skiptoken");
  const start = token !== null && /^\d+$/.test(token) ? Number(token) : 0;
  const value: T[] = [];
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
  if (serialize === undefined) return { status: 200, body };
  const next = body.nextLink === undefined ? "" : `,"nextLink":${JSON.stringify(body.nextLink)}`;
  return { status: 200, body: new RawJson(`{"value":[${value.map(serialize).join(",")}]${next}}`) };
}
