// Defender policies to JitPolicies: every VM's ports are mapped, and VMs whose mapped port sets are
// identical share one JitPolicy. Each JitPolicy gets its own priority band, so policies whose VMs
// share a subnet NSG never overlap (overlapping bands on one NSG freeze both policies).
import { createHash } from "node:crypto";
import type { JitPolicy, PolicyPort } from "../../api/types.ts";
import { API_GROUP_VERSION } from "../../api/types.ts";
import { VM_ID_PATTERN, validatePolicySpec } from "../../core/validate-policy.ts";
import type { DefenderPolicy } from "./input.ts";
import { mapPort } from "./ports.ts";

const MAX_TARGETS = 100;

export interface ImportOptions {
  namespace: string;
  /** First priority of the first policy's band. */
  priorityStart: number;
  /** Priorities per policy band. */
  bandSize: number;
}

export interface ImportedPolicy {
  policy: JitPolicy;
  /** Defender policies and VMs it came from, for the YAML comment. */
  sources: string[];
  requesterAddressPorts: number[];
}

export interface ImportResult {
  policies: ImportedPolicy[];
  /** What could not be carried over; each line names where in the input. */
  unmapped: string[];
  /** Requests found in the input: listed for the operator of the migration, never imported. */
  requests: string[];
}

interface VmEntry {
  id: string;
  source: string;
  ports: PolicyPort[];
  requesterAddressPorts: number[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function portKey(ports: PolicyPort[]): string {
  const sorted = [...ports].sort((a, b) => a.number - b.number || a.protocol.localeCompare(b.protocol));
  return JSON.stringify(sorted);
}

/** A DNS-1123 label built from the Defender policy name and the ports, short enough for labels. */
export function policyName(base: string, ports: PolicyPort[]): string {
  const clean =
    base
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "defender";
  const numbers = [...new Set(ports.map((p) => p.number))].sort((a, b) => a - b).join("-");
  const name = `${clean}-${numbers}`;
  if (name.length <= 63) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `${name.slice(0, 54).replace(/-+$/, "")}-${hash}`;
}

function vmEntries(p: DefenderPolicy, unmapped: string[]): VmEntry[] {
  const out: VmEntry[] = [];
  (p.properties["virtualMachines"] as unknown[]).forEach((vm, i) => {
    const where = `${p.where} (${p.name}) virtualMachines[${i}]`;
    if (!isRecord(vm) || typeof vm["id"] !== "string" || !VM_ID_PATTERN.test(vm["id"])) {
      const id = isRecord(vm) ? JSON.stringify(vm["id"]) : "?";
      unmapped.push(`${where}: id ${id} is not a virtual machine ARM id; the VM is not imported`);
      return;
    }
    const id = vm["id"];
    if (typeof vm["publicIpAddress"] === "string") {
      unmapped.push(
        `${where} (${id}): publicIpAddress ${vm["publicIpAddress"]} is an Azure Firewall DNAT path, which ` +
          "drawbridge does not manage; only the VM's NSG access is imported, remove the firewall rules yourself",
      );
    }
    const rules = Array.isArray(vm["ports"]) ? vm["ports"] : [];
    if (!Array.isArray(vm["ports"])) unmapped.push(`${where} (${id}): ports is missing or not a list`);
    const ports: PolicyPort[] = [];
    const requester: number[] = [];
    rules.forEach((r, j) => {
      const m = mapPort(r);
      if (!m.ok) unmapped.push(`${where}.ports[${j}] (${id}): ${m.problem}; the port is not imported`);
      else {
        ports.push(m.port);
        if (m.requesterAddress) requester.push(m.port.number);
      }
    });
    if (ports.length === 0) {
      unmapped.push(`${where} (${id}): no port could be imported; the VM is not imported`);
      return;
    }
    out.push({ id, source: `${p.name}: ${id}`, ports, requesterAddressPorts: requester });
  });
  return out;
}

function requestLines(p: DefenderPolicy): string[] {
  const requests = p.properties["requests"];
  if (!Array.isArray(requests)) return [];
  return requests.flatMap((r, i) => {
    if (!isRecord(r)) return [`${p.where} requests[${i}]: not an object`];
    const who = typeof r["requestor"] === "string" ? r["requestor"] : "unknown requestor";
    const vms = Array.isArray(r["virtualMachines"]) ? r["virtualMachines"] : [];
    const ports = vms.flatMap((vm) =>
      isRecord(vm) && Array.isArray(vm["ports"])
        ? vm["ports"]
            .filter(isRecord)
            .map(
              (pt) =>
                `${String(vm["id"])} port ${String(pt["number"])} from ${String(pt["allowedSourceAddressPrefix"] ?? pt["allowedSourceAddressPrefixes"])} ` +
                `until ${String(pt["endTimeUtc"])} (${String(pt["status"])})`,
            )
        : [],
    );
    return [
      `${p.name} requests[${i}] by ${who} at ${String(r["startTimeUtc"])}: ${ports.join("; ") || "no ports"}`,
    ];
  });
}

export function importPolicies(input: DefenderPolicy[], opts: ImportOptions): ImportResult {
  const unmapped: string[] = [];
  const groups = new Map<string, { base: string; vms: VmEntry[] }>();
  const seen = new Map<string, string>();
  for (const p of input) {
    for (const vm of vmEntries(p, unmapped)) {
      const prior = seen.get(vm.id.toLowerCase());
      if (prior !== undefined) {
        unmapped.push(
          `${vm.source}: the VM is already imported from ${prior}; this second entry is not imported`,
        );
        continue;
      }
      seen.set(vm.id.toLowerCase(), vm.source);
      const key = portKey(vm.ports);
      const g = groups.get(key) ?? { base: p.name, vms: [] };
      g.vms.push(vm);
      groups.set(key, g);
    }
  }
  const names = new Set<string>();
  const policies: ImportedPolicy[] = [];
  let from = opts.priorityStart;
  const chunks = [...groups.values()].flatMap((g) =>
    // A JitPolicy holds at most 100 targets; larger groups become several policies.
    Array.from({ length: Math.ceil(g.vms.length / MAX_TARGETS) }, (_, i) => ({
      base: g.base,
      vms: g.vms.slice(i * MAX_TARGETS, (i + 1) * MAX_TARGETS),
    })),
  );
  for (const g of chunks) {
    const ports = g.vms[0]?.ports ?? [];
    let name = policyName(g.base, ports);
    for (let n = 2; names.has(name); n++) name = `${policyName(g.base, ports).slice(0, 59)}-${n}`;
    names.add(name);
    const to = from + opts.bandSize - 1;
    if (to > 4096) {
      unmapped.push(`${name}: no priority band left below 4096 (next would be ${from}..${to}); not imported`);
      continue;
    }
    const policy: JitPolicy = {
      apiVersion: API_GROUP_VERSION,
      kind: "JitPolicy",
      metadata: { name, namespace: opts.namespace },
      spec: {
        targets: g.vms.map((vm) => ({ virtualMachineId: vm.id })),
        ports,
        priorityRange: { from, to },
        nsgScope: "All",
      },
    };
    // The core's own checks, so a combination Defender allows and drawbridge refuses is reported here.
    const issues = validatePolicySpec(policy.spec);
    if (issues.length > 0) {
      for (const i of issues) unmapped.push(`${name}: ${i.field}: ${i.message}; the policy is not imported`);
      continue;
    }
    policies.push({
      policy,
      sources: g.vms.map((vm) => vm.source),
      requesterAddressPorts: g.vms[0]?.requesterAddressPorts ?? [],
    });
    from = to + 1;
  }
  return { policies, unmapped, requests: input.flatMap(requestLines) };
}
