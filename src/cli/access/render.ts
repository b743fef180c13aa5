// What the commands print: tables for people, JSON/YAML for scripts (-o), and the hints that close a
// session (expiry, rules, how to connect).
import { stringify } from "yaml";
import type { AccessRequest, JitPolicy } from "../../api/types.ts";
import { effectivePolicySpec } from "../../core/validate-policy.ts";
import type { OutputFormat } from "./args.ts";

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("   ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/** Objects as -o asks: undefined for table (the caller prints its own). */
export function structured(objects: unknown, format: OutputFormat): string | undefined {
  if (format === "json") return JSON.stringify(objects, null, 2) + "\n";
  if (format === "yaml") return stringify(objects);
  return undefined;
}

export function requestRows(requests: AccessRequest[], withRequester: boolean): string {
  const headers = [
    "NAME",
    "PHASE",
    "POLICY",
    "PORTS",
    "SOURCE",
    "EXPIRES",
    ...(withRequester ? ["REQUESTER"] : []),
    "REASON",
  ];
  const rows = requests.map((r) => [
    r.metadata.name ?? "",
    r.status?.phase ?? "Pending",
    r.spec.policyName,
    r.spec.ports.join(","),
    r.spec.sourceAddressPrefix,
    r.status?.expiresAt ?? "",
    ...(withRequester ? [r.spec.requester] : []),
    r.status?.reason ?? "",
  ]);
  return table(headers, rows);
}

export function policyRows(policies: JitPolicy[]): string {
  const rows: string[][] = [];
  for (const p of policies) {
    const spec = effectivePolicySpec(p.spec);
    const targets = spec.targets
      .map((t) => shortId(t.virtualMachineId ?? t.networkSecurityGroupId ?? ""))
      .join(",");
    for (const port of spec.ports) {
      rows.push([
        p.metadata.name ?? "",
        targets,
        `${port.number}/${port.protocol}`,
        port.maxDuration,
        (port.allowedSourceAddressPrefixes ?? ["any specific"]).join(","),
        renewalText(p),
      ]);
    }
  }
  return table(["POLICY", "TARGETS", "PORT", "MAX", "SOURCES", "RENEWAL"], rows);
}

function renewalText(p: JitPolicy): string {
  const parts: string[] = [];
  if (p.spec.maxRenewals !== undefined) parts.push(`${p.spec.maxRenewals}x`);
  if (p.spec.maxTotalDuration !== undefined) parts.push(`<=${p.spec.maxTotalDuration} total`);
  return parts.length === 0 ? "yes" : parts.join(" ");
}

/** The last segment of an ARM id (the VM or NSG name). */
export function shortId(id: string): string {
  return id.split("/").pop() ?? id;
}

/** How to connect to each target the grant opens: ssh for 22, mstsc for 3389, host:port otherwise. */
export function connectHints(request: AccessRequest, policy: JitPolicy | undefined): string[] {
  const wanted = request.spec.targets?.map((t) => t.toLowerCase());
  const out: string[] = [];
  for (const t of policy?.status?.targets ?? []) {
    if (wanted !== undefined && !wanted.includes(t.id.toLowerCase())) continue;
    const dests = t.privateIpAddresses ?? destinationsOf(policy, t.id);
    for (const ip of dests)
      for (const port of request.spec.ports) out.push(`${connectCommand(ip, port)}   # ${shortId(t.id)}`);
  }
  return out;
}

function destinationsOf(policy: JitPolicy | undefined, id: string): string[] {
  const target = policy?.spec.targets.find(
    (t) => t.networkSecurityGroupId?.toLowerCase() === id.toLowerCase(),
  );
  return (target?.destinationAddressPrefixes ?? []).map((d) => d.replace(/\/(32|128)$/, ""));
}

export function connectCommand(ip: string, port: number): string {
  const host = ip.includes(":") ? `[${ip}]` : ip;
  if (port === 22) return `ssh ${ip}`;
  if (port === 3389) return `mstsc /v:${host}`;
  return `${host}:${port}`;
}

/** The closing summary of an Active request: until when, which rules, how to connect. */
export function activeSummary(request: AccessRequest, policy: JitPolicy | undefined): string {
  const s = request.status;
  const lines = [`Active until ${s?.expiresAt ?? "?"} (${untilText(s?.expiresAt)})`];
  lines.push("rules:");
  for (const r of s?.rules ?? [])
    lines.push(
      `  ${shortId(r.networkSecurityGroupId)}/${r.ruleName}  priority ${r.priority}  ${r.port}/${r.protocol}`,
    );
  const hints = connectHints(request, policy);
  if (hints.length > 0) lines.push("connect:", ...hints.map((h) => `  ${h}`));
  return lines.join("\n") + "\n";
}

function untilText(expiresAt: string | undefined): string {
  const left = Date.parse(expiresAt ?? "") - Date.now();
  if (Number.isNaN(left)) return "unknown";
  const minutes = Math.max(0, Math.round(left / 60_000));
  return minutes >= 60
    ? `in ${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`
    : `in ${minutes}m`;
}

export function describeRequest(r: AccessRequest): string {
  const s = r.status ?? {};
  const field = (k: string, v: string | undefined): string =>
    v === undefined ? "" : `${`${k}:`.padEnd(16)}${v}\n`;
  let out =
    field("Name", r.metadata.name) +
    field("Namespace", r.metadata.namespace) +
    field("Requester", r.spec.requester) +
    field("Policy", r.spec.policyName) +
    field("Targets", r.spec.targets?.map(shortId).join(", ") ?? "all of the policy's") +
    field("Ports", r.spec.ports.join(", ")) +
    field("Source", r.spec.sourceAddressPrefix) +
    field("Duration", r.spec.duration) +
    field("Justification", r.spec.justification) +
    field("Supersedes", r.spec.supersedes) +
    field("Phase", s.phase ?? "Pending") +
    field("Reason", s.reason) +
    field("Message", s.message) +
    field("Started", s.startTime) +
    field("Expires", s.expiresAt) +
    field("Chain start", s.chainStartTime) +
    field("Renewals", s.renewals === undefined ? undefined : String(s.renewals));
  if ((s.rules ?? []).length > 0) {
    out += "Rules:\n";
    for (const rule of s.rules ?? [])
      out += `  ${rule.networkSecurityGroupId}/${rule.ruleName} (priority ${rule.priority}, ${rule.port}/${rule.protocol})\n`;
  }
  if ((s.conditions ?? []).length > 0) {
    out += "Conditions:\n";
    for (const c of s.conditions ?? []) out += `  ${c.type}=${c.status} ${c.reason}: ${c.message}\n`;
  }
  return out;
}
