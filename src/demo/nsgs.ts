// `drawbridge demo nsgs`: print the security rules of the demo's NSGs as the ARM emulator holds them
// (through its admin endpoint), managed rules marked, so a user can watch grants open and close.
import { readFileSync } from "node:fs";
import { request } from "node:https";

export interface DemoInfo {
  endpoint: string;
  caFile: string;
  nsgIds: string[];
}

/** A security rule as the emulator's admin endpoint (and ARM) returns it. */
export interface RuleDoc {
  name: string;
  properties: {
    priority: number;
    direction: string;
    access: string;
    protocol: string;
    sourceAddressPrefix?: string;
    sourceAddressPrefixes?: string[];
    destinationAddressPrefix?: string;
    destinationAddressPrefixes?: string[];
    destinationPortRange?: string;
    destinationPortRanges?: string[];
    description?: string;
  };
}

function list(one: string | undefined, many: string[] | undefined): string {
  return many !== undefined && many.length > 0 ? many.join(",") : (one ?? "");
}

function fetchNsg(
  info: DemoInfo,
  id: string,
  ca: string,
): Promise<{ properties?: { securityRules?: RuleDoc[] } }> {
  const url = new URL(`${info.endpoint}/_emulator/nsg`);
  url.searchParams.set("id", id);
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url.href}: ${res.statusCode ?? 0} ${body}`));
        else resolve(JSON.parse(body) as { properties?: { securityRules?: RuleDoc[] } });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

export function formatRules(id: string, rules: RuleDoc[]): string {
  const name = id.split("/").pop() ?? id;
  const rows = [...rules]
    .sort(
      (a, b) =>
        a.properties.direction.localeCompare(b.properties.direction) ||
        a.properties.priority - b.properties.priority,
    )
    .map((r) => {
      const p = r.properties;
      const mark = r.name.startsWith("drawbridge-") ? "*" : " ";
      return `  ${mark} ${String(p.priority).padEnd(5)} ${p.direction.padEnd(8)} ${p.access.padEnd(5)} ${p.protocol.padEnd(4)} ${list(p.sourceAddressPrefix, p.sourceAddressPrefixes).padEnd(34)} -> ${list(p.destinationAddressPrefix, p.destinationAddressPrefixes)}:${list(p.destinationPortRange, p.destinationPortRanges)}  ${r.name}`;
    });
  return `${name}\n${rows.join("\n")}\n`;
}

export async function printNsgs(infoFile: string, out: (s: string) => void): Promise<number> {
  let info: DemoInfo;
  try {
    info = JSON.parse(readFileSync(infoFile, "utf8")) as DemoInfo;
  } catch {
    process.stderr.write(
      `drawbridge demo nsgs: no running demo found (${infoFile}); start one with npm run demo\n`,
    );
    return 1;
  }
  const ca = readFileSync(info.caFile, "utf8");
  for (const id of info.nsgIds) {
    const doc = await fetchNsg(info, id, ca);
    out(formatRules(id, doc.properties?.securityRules ?? []));
  }
  out("  (* = managed by drawbridge)\n");
  return 0;
}
