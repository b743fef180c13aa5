// SecurityRules_Get / CreateOrUpdate / Delete / List and DefaultSecurityRules_Get / List.
import { nestedNotFound, notFound } from "../errors.ts";
import { header, jsonBody, ok, type Reply, type RequestContext } from "../http.ts";
import { nsgId } from "../ids.ts";
import { newEtag, nsgDoc, rulesOf, shapeOf, withState } from "../nsg-model.ts";
import type { ArmDoc } from "../types.ts";
import { normalizeRuleProperties, validateName, validateRuleSet } from "../validation.ts";
import { checkPreconditions, runNsgWrite } from "../writes.ts";
import type { NsgRoute } from "./nsgs.ts";
import { paged } from "./paging.ts";

export interface RuleRoute extends NsgRoute {
  rule: string;
}

function nsgOrThrow(ctx: RequestContext, r: NsgRoute): ArmDoc {
  const doc = ctx.core.store.getNsg(nsgId(r.subscriptionId, r.resourceGroup, r.name));
  if (doc === undefined) throw notFound("Microsoft.Network/networkSecurityGroups", r.name, r.resourceGroup);
  return doc;
}

function findRule(rules: ArmDoc[], name: string): ArmDoc | undefined {
  const lower = name.toLowerCase();
  return rules.find((x) => x.name.toLowerCase() === lower);
}

function ruleNotFound(nsg: ArmDoc, kind: string, name: string): Error {
  return nestedNotFound("NotFound", `Resource ${nsg.id}/${kind}/${name} not found.`);
}

export function getRule(ctx: RequestContext, r: RuleRoute): Reply {
  const nsg = nsgOrThrow(ctx, r);
  const rule = findRule(rulesOf(nsg), r.rule);
  if (rule === undefined) throw ruleNotFound(nsg, "securityRules", r.rule);
  return ok(rule);
}

export function listRules(ctx: RequestContext, r: NsgRoute): Reply {
  return paged(ctx, rulesOf(nsgOrThrow(ctx, r)));
}

function defaultRules(nsg: ArmDoc): ArmDoc[] {
  const d = nsg.properties["defaultSecurityRules"];
  return Array.isArray(d) ? (d as ArmDoc[]) : [];
}

export function getDefaultRule(ctx: RequestContext, r: RuleRoute): Reply {
  const nsg = nsgOrThrow(ctx, r);
  const rule = findRule(defaultRules(nsg), r.rule);
  if (rule === undefined) throw ruleNotFound(nsg, "defaultSecurityRules", r.rule);
  return ok(rule);
}

export function listDefaultRules(ctx: RequestContext, r: NsgRoute): Reply {
  return paged(ctx, defaultRules(nsgOrThrow(ctx, r)));
}

export async function putRule(ctx: RequestContext, r: RuleRoute): Promise<Reply> {
  validateName(r.rule, "security rule");
  const existing = nsgOrThrow(ctx, r);
  const ruleId = `${existing.id}/securityRules/${r.rule}`;
  const properties = normalizeRuleProperties(jsonBody(ctx)["properties"], ruleId);
  const store = ctx.core.store;
  const req = {
    nsgId: existing.id,
    subscriptionId: r.subscriptionId,
    location: existing.location ?? "",
    apiVersion: ctx.apiVersion,
  };
  return runNsgWrite(ctx.core, req, () => {
    const current = nsgOrThrow(ctx, r);
    const shape = shapeOf(current);
    const old = findRule(rulesOf(current), r.rule);
    checkPreconditions(header(ctx, "if-match"), header(ctx, "if-none-match"), old?.etag);
    const name = old?.name ?? r.rule;
    const rules =
      old === undefined
        ? [...shape.rules, { name, properties }]
        : shape.rules.map((x) => (x.name === name ? { name, properties } : x));
    validateRuleSet(rules, current.id);
    const async = ctx.core.lroMode === "async";
    const doc = nsgDoc({ ...shape, rules }, newEtag());
    store.putNsg(async ? withState(doc, "Updating") : doc);
    const answer = findRule(rulesOf(withState(doc, "Updating")), name);
    return {
      status: old === undefined ? 201 : 200,
      body: answer,
      finalize: () => {
        if (async && store.getNsg(doc.id)?.etag === doc.etag) store.putNsg(doc);
      },
    };
  });
}

export async function deleteRule(ctx: RequestContext, r: RuleRoute): Promise<Reply> {
  const existing = nsgOrThrow(ctx, r);
  if (findRule(rulesOf(existing), r.rule) === undefined) return { status: 204 };
  const store = ctx.core.store;
  const req = {
    nsgId: existing.id,
    subscriptionId: r.subscriptionId,
    location: existing.location ?? "",
    apiVersion: ctx.apiVersion,
  };
  return runNsgWrite(ctx.core, req, () => {
    const current = nsgOrThrow(ctx, r);
    const old = findRule(rulesOf(current), r.rule);
    checkPreconditions(header(ctx, "if-match"), undefined, old?.etag);
    if (old === undefined) return { status: 204 };
    const shape = shapeOf(current);
    const doc = nsgDoc({ ...shape, rules: shape.rules.filter((x) => x.name !== old.name) }, newEtag());
    store.putNsg(doc);
    return { status: 202, withLocation: true };
  });
}
