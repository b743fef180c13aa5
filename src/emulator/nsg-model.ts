// Building NSG and security rule documents in the shape Network returns them.
import { randomUUID } from "node:crypto";
import { defaultSecurityRules } from "./defaults.ts";
import type { ArmDoc } from "./types.ts";

export const NSG_TYPE = "Microsoft.Network/networkSecurityGroups";
export const RULE_TYPE = "Microsoft.Network/networkSecurityGroups/securityRules";

export interface RuleInput {
  name: string;
  properties: Record<string, unknown>;
}

export function newEtag(): string {
  return `W/"${randomUUID()}"`;
}

export function ruleDoc(nsgId: string, rule: RuleInput, etag: string): ArmDoc {
  return {
    name: rule.name,
    id: `${nsgId}/securityRules/${rule.name}`,
    etag,
    type: RULE_TYPE,
    properties: rule.properties,
  };
}

export interface NsgShape {
  id: string;
  name: string;
  location: string;
  tags?: Record<string, string> | undefined;
  resourceGuid?: string | undefined;
  rules: RuleInput[];
  flushConnection?: boolean | undefined;
  networkInterfaces?: unknown[] | undefined;
  subnets?: unknown[] | undefined;
}

/** A complete NSG document; every write gives the NSG and all its rules one new etag. */
export function nsgDoc(shape: NsgShape, etag: string, provisioningState = "Succeeded"): ArmDoc {
  const properties: Record<string, unknown> = {
    resourceGuid: shape.resourceGuid ?? randomUUID(),
    provisioningState,
    flushConnection: shape.flushConnection ?? false,
    securityRules: shape.rules.map((r) => ruleDoc(shape.id, r, etag)),
    defaultSecurityRules: defaultSecurityRules(shape.id, etag),
  };
  if (shape.networkInterfaces !== undefined && shape.networkInterfaces.length > 0) {
    properties["networkInterfaces"] = shape.networkInterfaces;
  }
  if (shape.subnets !== undefined && shape.subnets.length > 0) properties["subnets"] = shape.subnets;
  const doc: ArmDoc = {
    name: shape.name,
    id: shape.id,
    etag,
    type: NSG_TYPE,
    location: shape.location,
    properties,
  };
  if (shape.tags !== undefined) doc.tags = shape.tags;
  return doc;
}

export function rulesOf(doc: ArmDoc): ArmDoc[] {
  const rules = doc.properties["securityRules"];
  return Array.isArray(rules) ? (rules as ArmDoc[]) : [];
}

/** The shape of an existing NSG document, to rebuild it with changed rules. */
export function shapeOf(doc: ArmDoc): NsgShape {
  const p = doc.properties;
  return {
    id: doc.id,
    name: doc.name,
    location: doc.location ?? "",
    tags: doc.tags,
    resourceGuid: typeof p["resourceGuid"] === "string" ? p["resourceGuid"] : undefined,
    rules: rulesOf(doc).map((r) => ({ name: r.name, properties: r.properties })),
    flushConnection: typeof p["flushConnection"] === "boolean" ? p["flushConnection"] : undefined,
    networkInterfaces: p["networkInterfaces"] as unknown[] | undefined,
    subnets: p["subnets"] as unknown[] | undefined,
  };
}

/** A copy with provisioningState set on the NSG and its rules (PUT answers say Updating). */
export function withState(doc: ArmDoc, state: string): ArmDoc {
  const rules = rulesOf(doc).map((r) => ({
    ...r,
    properties: { ...r.properties, provisioningState: state },
  }));
  return { ...doc, properties: { ...doc.properties, provisioningState: state, securityRules: rules } };
}
