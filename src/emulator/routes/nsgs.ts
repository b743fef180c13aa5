// NetworkSecurityGroups_Get / CreateOrUpdate / UpdateTags / Delete / List / ListAll.
import { ArmError, badRequest, notFound } from "../errors.ts";
import { header, jsonBody, ok, RawJson, type Reply, type RequestContext } from "../http.ts";
import { nsgId } from "../ids.ts";
import { newEtag, nsgDoc, shapeOf, withState, type RuleInput } from "../nsg-model.ts";
import type { ArmDoc } from "../types.ts";
import { normalizeRuleProperties, validateName, validateRuleSet } from "../validation.ts";
import { raceConditionalPut } from "../foreign-writer.ts";
import { checkPreconditions, runNsgWrite } from "../writes.ts";
import { paged } from "./paging.ts";

export interface NsgRoute {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

function idOf(r: NsgRoute): string {
  return nsgId(r.subscriptionId, r.resourceGroup, r.name);
}

export function getNsg(ctx: RequestContext, r: NsgRoute): Reply {
  const doc = ctx.core.store.getNsg(idOf(r));
  if (doc === undefined) throw notFound("Microsoft.Network/networkSecurityGroups", r.name, r.resourceGroup);
  return ok(new RawJson(ctx.core.store.jsonOf(doc)));
}

export function listNsgs(ctx: RequestContext, subscriptionId: string, resourceGroup?: string): Reply {
  const store = ctx.core.store;
  return paged(ctx, store.listNsgs(subscriptionId, resourceGroup), (d) => store.jsonOf(d));
}

function propsOf(body: Record<string, unknown>): Record<string, unknown> {
  const props = body["properties"];
  if (props === undefined || props === null) return {};
  if (typeof props !== "object" || Array.isArray(props)) {
    throw badRequest("InvalidRequestFormat", "Cannot parse the request: 'properties' must be an object.");
  }
  return props as Record<string, unknown>;
}

function flushOf(body: Record<string, unknown>): boolean | undefined {
  const v = propsOf(body)["flushConnection"];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean")
    throw badRequest("InvalidRequestFormat", "'properties.flushConnection' must be a boolean.");
  return v;
}

function parseRules(body: Record<string, unknown>, id: string): RuleInput[] {
  const raw = propsOf(body)["securityRules"];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw))
    throw badRequest("InvalidRequestFormat", "'properties.securityRules' must be an array.");
  return raw.map((item: unknown, i) => {
    const r = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    const name = r["name"];
    if (typeof name !== "string" || name === "") {
      throw badRequest("InvalidRequestFormat", `properties.securityRules[${i}].name is required.`);
    }
    validateName(name, "security rule");
    return { name, properties: normalizeRuleProperties(r["properties"], `${id}/securityRules/${name}`) };
  });
}

function tagsOf(body: Record<string, unknown>): Record<string, string> | undefined {
  const t = body["tags"];
  if (t === undefined || t === null) return undefined;
  if (typeof t !== "object" || Array.isArray(t) || Object.values(t).some((v) => typeof v !== "string")) {
    throw badRequest("InvalidRequestFormat", "'tags' must be an object of string values.");
  }
  return t as Record<string, string>;
}

export async function putNsg(ctx: RequestContext, r: NsgRoute): Promise<Reply> {
  validateName(r.name, "network security group");
  const id = idOf(r);
  const body = jsonBody(ctx);
  const rules = parseRules(body, id);
  const tags = tagsOf(body);
  const flush = flushOf(body);
  const location = typeof body["location"] === "string" ? body["location"] : undefined;
  const existing = ctx.core.store.getNsg(id);
  if (existing === undefined && location === undefined) {
    throw badRequest("LocationRequired", "The location property is required for this definition.");
  }
  const req = {
    nsgId: id,
    subscriptionId: r.subscriptionId,
    location: location ?? existing?.location ?? "",
    apiVersion: ctx.apiVersion,
  };
  raceConditionalPut(ctx.core, id, header(ctx, "if-match"));
  return runNsgWrite(ctx.core, req, () => {
    const current = ctx.core.store.getNsg(id);
    checkPreconditions(header(ctx, "if-match"), header(ctx, "if-none-match"), current?.etag);
    if (
      current !== undefined &&
      location !== undefined &&
      current.location?.toLowerCase() !== location.toLowerCase()
    ) {
      throw badRequest(
        "InvalidResourceLocation",
        `The resource '${r.name}' already exists in location '${String(current.location)}'; it cannot be moved to '${location}'.`,
      );
    }
    validateRuleSet(rules, id);
    const base = current === undefined ? { id, name: r.name, location: location ?? "" } : shapeOf(current);
    const keep = current === undefined ? undefined : shapeOf(current);
    const shape = {
      ...base,
      rules,
      tags: tags ?? keep?.tags,
      flushConnection: flush ?? keep?.flushConnection,
    };
    return commitNsg(ctx, shape, current === undefined);
  });
}

function commitNsg(
  ctx: RequestContext,
  shape: Parameters<typeof nsgDoc>[0],
  created: boolean,
): { status: number; body: unknown; finalize: () => void } {
  const store = ctx.core.store;
  const async = ctx.core.lroMode === "async";
  const doc = nsgDoc(shape, newEtag(), async ? "Updating" : "Succeeded");
  store.putNsg(async ? withState(doc, "Updating") : doc);
  return {
    status: created ? 201 : 200,
    body: withState(doc, "Updating"),
    finalize: () => {
      if (async && store.getNsg(doc.id)?.etag === doc.etag) store.putNsg(withState(doc, "Succeeded"));
    },
  };
}

export async function patchNsgTags(ctx: RequestContext, r: NsgRoute): Promise<Reply> {
  const id = idOf(r);
  const tags = tagsOf(jsonBody(ctx)) ?? {};
  const existing = ctx.core.store.getNsg(id);
  if (existing === undefined)
    throw notFound("Microsoft.Network/networkSecurityGroups", r.name, r.resourceGroup);
  const req = {
    nsgId: id,
    subscriptionId: r.subscriptionId,
    location: existing.location ?? "",
    apiVersion: ctx.apiVersion,
  };
  const reply = await runNsgWrite(ctx.core, req, () => {
    const current = ctx.core.store.getNsg(id);
    if (current === undefined)
      throw notFound("Microsoft.Network/networkSecurityGroups", r.name, r.resourceGroup);
    const doc = nsgDoc({ ...shapeOf(current), tags }, newEtag());
    ctx.core.store.putNsg(doc);
    return { status: 200, body: doc };
  });
  return { status: 200, body: reply.body };
}

function inUse(doc: ArmDoc): string[] {
  const refs = [doc.properties["networkInterfaces"], doc.properties["subnets"]];
  return refs.flatMap((x) => (Array.isArray(x) ? (x as { id: string }[]).map((e) => e.id) : []));
}

export async function deleteNsg(ctx: RequestContext, r: NsgRoute): Promise<Reply> {
  const id = idOf(r);
  const existing = ctx.core.store.getNsg(id);
  if (existing === undefined) return { status: 204 };
  const users = inUse(existing);
  if (users.length > 0) {
    throw new ArmError(
      400,
      "InUseNetworkSecurityGroupCannotBeDeleted",
      `Network security group ${id} cannot be deleted because it is in use by the following resources: ${users.join(", ")}.`,
    );
  }
  const req = {
    nsgId: id,
    subscriptionId: r.subscriptionId,
    location: existing.location ?? "",
    apiVersion: ctx.apiVersion,
  };
  const store = ctx.core.store;
  return runNsgWrite(ctx.core, req, () => {
    const current = store.getNsg(id);
    checkPreconditions(header(ctx, "if-match"), undefined, current?.etag);
    if (current === undefined) return { status: 204 };
    if (ctx.core.lroMode !== "async") {
      store.deleteNsg(id);
      return { status: 202, withLocation: true };
    }
    store.putNsg(withState(current, "Deleting"));
    return { status: 202, withLocation: true, finalize: () => void store.deleteNsg(id) };
  });
}
