// Loading ARM documents (the seed, or POST /_emulator/resources) into the store. NSG documents
// go through the same validation as a PUT, so a seed cannot hold what Azure would refuse.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { idKey, parseResourceId } from "./ids.ts";
import { newEtag, nsgDoc, NSG_TYPE } from "./nsg-model.ts";
import type { Store } from "./store.ts";
import type { ArmDoc } from "./types.ts";
import { normalizeRuleProperties, validateName, validateRuleSet } from "./validation.ts";

const KNOWN_TYPES = new Set(
  [
    NSG_TYPE,
    "Microsoft.Compute/virtualMachines",
    "Microsoft.Network/networkInterfaces",
    "Microsoft.Network/virtualNetworks",
    "Microsoft.Resources/resourceGroups",
  ].map((t) => t.toLowerCase()),
);

export function readSeedFile(path: string): unknown[] {
  const parsed: unknown = parseYaml(readFileSync(path, "utf8"));
  if (!Array.isArray(parsed)) throw new Error(`seed ${path}: expected a list of ARM documents`);
  return parsed;
}

function asDoc(raw: unknown, index: number): ArmDoc {
  if (typeof raw !== "object" || raw === null) throw new Error(`seed[${index}]: not an object`);
  const d = raw as Record<string, unknown>;
  for (const k of ["id", "type"]) {
    if (typeof d[k] !== "string") throw new Error(`seed[${index}]: field '${k}' must be a string`);
  }
  const type = String(d["type"]);
  if (!KNOWN_TYPES.has(type.toLowerCase())) throw new Error(`seed[${index}]: unsupported type '${type}'`);
  const doc = structuredClone(d) as ArmDoc;
  doc.name = typeof d["name"] === "string" ? d["name"] : (doc.id.split("/").pop() ?? "");
  doc.properties = typeof d["properties"] === "object" && d["properties"] !== null ? doc.properties : {};
  return doc;
}

function seedNsg(doc: ArmDoc, index: number): ArmDoc {
  validateName(doc.name, "network security group");
  const raw = doc.properties["securityRules"];
  const list = Array.isArray(raw) ? (raw as Record<string, unknown>[]) : [];
  const rules = list.map((r, i) => {
    const name = typeof r["name"] === "string" ? r["name"] : "";
    if (name === "") throw new Error(`seed[${index}].properties.securityRules[${i}]: missing name`);
    validateName(name, "security rule");
    return { name, properties: normalizeRuleProperties(r["properties"], `${doc.id}/securityRules/${name}`) };
  });
  validateRuleSet(rules, doc.id);
  const p = doc.properties;
  const shape = {
    ...doc,
    location: doc.location ?? "westeurope",
    rules,
    flushConnection: typeof p["flushConnection"] === "boolean" ? p["flushConnection"] : undefined,
    // Explicit back-references are kept; NICs and subnets of the seed add theirs (linkNsgs).
    networkInterfaces: Array.isArray(p["networkInterfaces"])
      ? (p["networkInterfaces"] as unknown[])
      : undefined,
    subnets: Array.isArray(p["subnets"]) ? (p["subnets"] as unknown[]) : undefined,
  };
  return nsgDoc(shape, newEtag());
}

function seedResource(doc: ArmDoc): ArmDoc {
  doc.etag ??= newEtag();
  doc.properties["provisioningState"] ??= "Succeeded";
  if (doc.type.toLowerCase() === "microsoft.network/virtualnetworks") {
    const subnets = Array.isArray(doc.properties["subnets"]) ? (doc.properties["subnets"] as ArmDoc[]) : [];
    for (const s of subnets) {
      if (typeof s.id !== "string") s.id = `${doc.id}/subnets/${s.name}`;
      if (typeof s.type !== "string") s.type = "Microsoft.Network/virtualNetworks/subnets";
      s.etag ??= doc.etag;
      s.properties = { provisioningState: "Succeeded", ...s.properties };
    }
    doc.properties["resourceGuid"] ??= randomUUID();
  }
  if (doc.type.toLowerCase() === "microsoft.network/networkinterfaces")
    doc.properties["resourceGuid"] ??= randomUUID();
  return doc;
}

function nsgRef(x: unknown): string | undefined {
  const id = (x as { networkSecurityGroup?: { id?: unknown } } | undefined)?.networkSecurityGroup?.id;
  return typeof id === "string" ? idKey(id) : undefined;
}

/** NSG documents list the NICs and subnets that use them; rebuild those back-references. */
function linkNsgs(store: Store): void {
  const nics = new Map<string, { id: string }[]>();
  const subnets = new Map<string, { id: string }[]>();
  const add = (m: Map<string, { id: string }[]>, key: string | undefined, id: string): void => {
    if (key !== undefined) m.set(key, [...(m.get(key) ?? []), { id }]);
  };
  for (const r of store.allResources()) {
    const t = r.type.toLowerCase();
    if (t === "microsoft.network/networkinterfaces") add(nics, nsgRef(r.properties), r.id);
    if (t !== "microsoft.network/virtualnetworks") continue;
    for (const s of (r.properties["subnets"] ?? []) as ArmDoc[]) add(subnets, nsgRef(s.properties), s.id);
  }
  for (const key of new Set([...nics.keys(), ...subnets.keys()])) {
    const nsg = store.getNsg(key);
    if (nsg === undefined) continue;
    const copy = structuredClone(nsg);
    const n = nics.get(key);
    const s = subnets.get(key);
    if (n !== undefined) copy.properties["networkInterfaces"] = n;
    if (s !== undefined) copy.properties["subnets"] = s;
    store.putNsg(copy);
  }
}

/** Validates every document first, then adds them all (all or nothing). */
export function loadDocuments(store: Store, raw: unknown[]): number {
  const docs = raw.map((r, i) => {
    const doc = asDoc(r, i);
    if (
      parseResourceId(doc.id) === undefined &&
      doc.type.toLowerCase() !== "microsoft.resources/resourcegroups"
    ) {
      throw new Error(`seed[${i}]: '${doc.id}' is not a full ARM resource id`);
    }
    return doc;
  });
  const built = docs.map((d, i) => {
    const t = d.type.toLowerCase();
    if (t === NSG_TYPE.toLowerCase()) return seedNsg(d, i);
    return t === "microsoft.resources/resourcegroups" ? d : seedResource(d);
  });
  for (const d of built) {
    const t = d.type.toLowerCase();
    if (t === "microsoft.resources/resourcegroups") store.addResourceGroup(d.id);
    else if (t === NSG_TYPE.toLowerCase()) store.putNsg(d);
    else store.putResource(d);
  }
  linkNsgs(store);
  return built.length;
}
