// The shapes `drawbridge import defender` accepts, all Microsoft.Security jitNetworkAccessPolicies
// (API version 2020-01-01): a GET body, a list body ({ value: [...] }), an ARM template resource, or
// a whole ARM template. Everything is read defensively: the input is a file from outside.

export const DEFENDER_TYPE = "Microsoft.Security/locations/jitNetworkAccessPolicies";
export const DEFENDER_API_VERSION = "2020-01-01";

export interface DefenderPolicy {
  /** Where in the input the policy was found, e.g. "value[2]" or "resources[0]". */
  where: string;
  name: string;
  properties: Record<string, unknown>;
}

export interface ParsedInput {
  policies: DefenderPolicy[];
  /** Things about the input itself worth saying (paging, other API versions). */
  notes: string[];
}

export class DefenderInputError extends Error {}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function policyOf(v: unknown, where: string, notes: string[]): DefenderPolicy {
  if (!isRecord(v)) throw new DefenderInputError(`${where}: expected a jitNetworkAccessPolicies object`);
  const type = v["type"];
  if (typeof type === "string" && type.toLowerCase() !== DEFENDER_TYPE.toLowerCase()) {
    throw new DefenderInputError(`${where}.type is ${JSON.stringify(type)}, expected ${DEFENDER_TYPE}`);
  }
  const api = v["apiVersion"];
  if (typeof api === "string" && api !== DEFENDER_API_VERSION) {
    notes.push(`${where}.apiVersion is ${api}; read as ${DEFENDER_API_VERSION}`);
  }
  const props = v["properties"];
  if (!isRecord(props) || !Array.isArray(props["virtualMachines"])) {
    throw new DefenderInputError(
      `${where}.properties.virtualMachines is missing or not a list: not a jitNetworkAccessPolicies body`,
    );
  }
  const name = typeof v["name"] === "string" && v["name"] !== "" ? v["name"] : "default";
  return { where, name, properties: props };
}

/** The policies in a parsed JSON document, or a DefenderInputError saying why it is not one. */
export function readDefenderInput(doc: unknown): ParsedInput {
  const notes: string[] = [];
  if (isRecord(doc) && Array.isArray(doc["value"])) {
    if (typeof doc["nextLink"] === "string" && doc["nextLink"] !== "") {
      notes.push(`the list has a nextLink (${doc["nextLink"]}): later pages are not in this input`);
    }
    const policies = doc["value"].map((v, i) => policyOf(v, `value[${i}]`, notes));
    return { policies, notes };
  }
  if (isRecord(doc) && Array.isArray(doc["resources"])) {
    // A whole ARM template: take the JIT resources, say how many others were skipped.
    const resources = doc["resources"];
    const policies: DefenderPolicy[] = [];
    resources.forEach((r, i) => {
      if (
        isRecord(r) &&
        typeof r["type"] === "string" &&
        r["type"].toLowerCase() === DEFENDER_TYPE.toLowerCase()
      )
        policies.push(policyOf(r, `resources[${i}]`, notes));
    });
    if (policies.length === 0)
      throw new DefenderInputError(`the ARM template has no ${DEFENDER_TYPE} resource`);
    if (policies.length < resources.length)
      notes.push(`${resources.length - policies.length} template resources of other types were skipped`);
    return { policies, notes };
  }
  return { policies: [policyOf(doc, "$", notes)], notes };
}

/** JSON text to the policies it holds; syntax errors name the input. */
export function parseDefenderJson(text: string, source: string): ParsedInput {
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch (e) {
    throw new DefenderInputError(`${source}: not JSON: ${(e as Error).message}`);
  }
  try {
    return readDefenderInput(doc);
  } catch (e) {
    if (e instanceof DefenderInputError) throw new DefenderInputError(`${source}: ${e.message}`);
    throw e;
  }
}
