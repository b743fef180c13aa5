// Read-only estate: VirtualMachines_Get, NetworkInterfaces_Get, VirtualNetworks_Get, Subnets_Get/List.
import { nestedNotFound, notFound } from "../errors.ts";
import { ok, type Reply, type RequestContext } from "../http.ts";
import type { ArmDoc } from "../types.ts";
import { paged } from "./paging.ts";

export interface ResourceRoute {
  subscriptionId: string;
  resourceGroup: string;
  provider: string;
  type: string;
  name: string;
}

function resourceId(r: ResourceRoute): string {
  return `/subscriptions/${r.subscriptionId}/resourceGroups/${r.resourceGroup}/providers/${r.provider}/${r.type}/${r.name}`;
}

function getDoc(ctx: RequestContext, r: ResourceRoute): ArmDoc {
  const doc = ctx.core.store.get(resourceId(r));
  if (doc === undefined || doc.type.toLowerCase() !== `${r.provider}/${r.type}`.toLowerCase()) {
    throw notFound(`${r.provider}/${r.type}`, r.name, r.resourceGroup);
  }
  return doc;
}

export function getResource(ctx: RequestContext, r: ResourceRoute): Reply {
  return ok(getDoc(ctx, r));
}

function subnetsOf(vnet: ArmDoc): ArmDoc[] {
  const s = vnet.properties["subnets"];
  return Array.isArray(s) ? (s as ArmDoc[]) : [];
}

export function getSubnet(ctx: RequestContext, r: ResourceRoute, subnet: string): Reply {
  const vnet = getDoc(ctx, r);
  const found = subnetsOf(vnet).find((s) => s.name.toLowerCase() === subnet.toLowerCase());
  if (found === undefined)
    throw nestedNotFound("NotFound", `Resource ${vnet.id}/subnets/${subnet} not found.`);
  return ok(found);
}

export function listSubnets(ctx: RequestContext, r: ResourceRoute): Reply {
  return paged(ctx, subnetsOf(getDoc(ctx, r)));
}
