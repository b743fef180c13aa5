// Maps ARM paths to handlers. Segment keywords and names match case-insensitively, as in ARM.
import { ArmError } from "./errors.ts";
import type { Reply, RequestContext } from "./http.ts";
import { getResource, getSubnet, listSubnets, type ResourceRoute } from "./routes/estate.ts";
import { deleteNsg, getNsg, listNsgs, patchNsgTags, putNsg, type NsgRoute } from "./routes/nsgs.ts";
import { getOperationResult, getOperationStatus } from "./routes/operations.ts";
import { deleteRule, getDefaultRule, getRule, listDefaultRules, listRules, putRule } from "./routes/rules.ts";

export interface Route {
  operation: string;
  isWrite: boolean;
  subscriptionId: string;
  /** Set for resource-group scoped routes: the group must exist. */
  resourceGroup?: string;
  run: (ctx: RequestContext) => Reply | Promise<Reply>;
}

type Handlers = Partial<Record<string, [string, (ctx: RequestContext) => Reply | Promise<Reply>]>>;

function pick(method: string, handlers: Handlers, base: Omit<Route, "operation" | "isWrite" | "run">): Route {
  const h = handlers[method];
  if (h === undefined) {
    throw new ArmError(
      405,
      "MethodNotAllowed",
      `The requested resource does not support http method '${method}'.`,
    );
  }
  return { ...base, operation: h[0], isWrite: method !== "GET", run: h[1] };
}

function unknownType(type: string, namespace: string): ArmError {
  return new ArmError(
    404,
    "InvalidResourceType",
    `The resource type '${type}' could not be found in the namespace '${namespace}'.`,
  );
}

function subscriptionRoute(method: string, s: string[], lower: string[]): Route | undefined {
  const sub = s[1] ?? "";
  if (lower[2] !== "providers" || lower[3] !== "microsoft.network") return undefined;
  if (lower.length === 5 && lower[4] === "networksecuritygroups") {
    return pick(
      method,
      { GET: ["NetworkSecurityGroups_ListAll", (c) => listNsgs(c, sub)] },
      { subscriptionId: sub },
    );
  }
  if (
    lower.length === 8 &&
    lower[4] === "locations" &&
    (lower[6] === "operations" || lower[6] === "operationresults")
  ) {
    const id = s[7] ?? "";
    const run =
      lower[6] === "operations"
        ? (c: RequestContext) => getOperationStatus(c, id)
        : (c: RequestContext) => getOperationResult(c, id);
    return pick(
      method,
      { GET: [lower[6] === "operations" ? "Operations_Status" : "Operations_Result", run] },
      { subscriptionId: sub },
    );
  }
  return undefined;
}

function nsgRoute(method: string, s: string[], lower: string[], r: NsgRoute): Route {
  const base = { subscriptionId: r.subscriptionId, resourceGroup: r.resourceGroup };
  if (lower.length === 7) {
    return pick(
      method,
      { GET: ["NetworkSecurityGroups_List", (c) => listNsgs(c, r.subscriptionId, r.resourceGroup)] },
      base,
    );
  }
  if (lower.length === 8) {
    return pick(
      method,
      {
        GET: ["NetworkSecurityGroups_Get", (c) => getNsg(c, r)],
        PUT: ["NetworkSecurityGroups_CreateOrUpdate", (c) => putNsg(c, r)],
        PATCH: ["NetworkSecurityGroups_UpdateTags", (c) => patchNsgTags(c, r)],
        DELETE: ["NetworkSecurityGroups_Delete", (c) => deleteNsg(c, r)],
      },
      base,
    );
  }
  const child = lower[8];
  const rr = { ...r, rule: s[9] ?? "" };
  if (child === "securityrules" && lower.length === 9)
    return pick(method, { GET: ["SecurityRules_List", (c) => listRules(c, r)] }, base);
  if (child === "securityrules" && lower.length === 10) {
    return pick(
      method,
      {
        GET: ["SecurityRules_Get", (c) => getRule(c, rr)],
        PUT: ["SecurityRules_CreateOrUpdate", (c) => putRule(c, rr)],
        DELETE: ["SecurityRules_Delete", (c) => deleteRule(c, rr)],
      },
      base,
    );
  }
  if (child === "defaultsecurityrules" && lower.length === 9) {
    return pick(method, { GET: ["DefaultSecurityRules_List", (c) => listDefaultRules(c, r)] }, base);
  }
  if (child === "defaultsecurityrules" && lower.length === 10) {
    return pick(method, { GET: ["DefaultSecurityRules_Get", (c) => getDefaultRule(c, rr)] }, base);
  }
  throw unknownType(`networkSecurityGroups/${s[8] ?? ""}`, "Microsoft.Network");
}

const ESTATE: Record<string, string> = {
  "microsoft.compute/virtualmachines": "VirtualMachines_Get",
  "microsoft.network/networkinterfaces": "NetworkInterfaces_Get",
  "microsoft.network/virtualnetworks": "VirtualNetworks_Get",
};

function estateRoute(method: string, s: string[], lower: string[], r: ResourceRoute): Route | undefined {
  const op = ESTATE[`${lower[5] ?? ""}/${lower[6] ?? ""}`];
  if (op === undefined || lower.length < 8) return undefined;
  const base = { subscriptionId: r.subscriptionId, resourceGroup: r.resourceGroup };
  if (lower.length === 8) return pick(method, { GET: [op, (c) => getResource(c, r)] }, base);
  if (lower[6] === "virtualnetworks" && lower[8] === "subnets") {
    if (lower.length === 9) return pick(method, { GET: ["Subnets_List", (c) => listSubnets(c, r)] }, base);
    if (lower.length === 10)
      return pick(method, { GET: ["Subnets_Get", (c) => getSubnet(c, r, s[9] ?? "")] }, base);
  }
  return undefined;
}

function groupRoute(method: string, s: string[], lower: string[]): Route | undefined {
  if (lower[2] !== "resourcegroups" || lower[4] !== "providers" || s.length < 7) return undefined;
  const [, subscriptionId = "", , resourceGroup = "", , provider = "", type = "", name = ""] = s;
  const r = { subscriptionId, resourceGroup, provider, type, name };
  if (lower[5] === "microsoft.network" && lower[6] === "networksecuritygroups")
    return nsgRoute(method, s, lower, r);
  const est = estateRoute(method, s, lower, r);
  if (est !== undefined) return est;
  throw unknownType(type, provider);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ArmError(
      400,
      "InvalidRequestUri",
      `The request URI segment '${segment}' is not valid percent-encoding.`,
    );
  }
}

function noRoute(pathname: string): ArmError {
  return new ArmError(
    404,
    "NotFound",
    `No HTTP resource was found that matches the request URI '${pathname}'.`,
  );
}

/** Resolves a request to a route, or throws the ArmError ARM would answer. */
export function route(method: string, pathname: string): Route {
  const s = pathname
    .split("/")
    .filter((p) => p !== "")
    .map(decodeSegment);
  const lower = s.map((p) => p.toLowerCase());
  if (lower[0] !== "subscriptions" || s.length < 2) throw noRoute(pathname);
  const sub = subscriptionRoute(method, s, lower);
  if (sub !== undefined) return sub;
  const inGroup = groupRoute(method, s, lower);
  if (inGroup !== undefined) return inGroup;
  throw noRoute(pathname);
}
