// End-to-end harness: the run's real control plane, an in-process ARM emulator seeded with
// examples/seed.yaml, and the operator as a child process (`node bin/drawbridge.js run`) watching
// only the test's namespace, so every test file has its own estate and operator.
import { readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { startEmulator } from "../../src/emulator/index.ts";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import type { RuleDoc } from "../../src/demo/nsgs.ts";
import { aliceRbacYaml } from "../support/alice-rbac.ts";
import { testCluster } from "../support/cluster.ts";
import { scopeYaml } from "../support/scope.ts";
import { startOperatorProcess } from "../support/operator-process.ts";
import type { OperatorProcess } from "../support/operator-process.ts";
import type { TestCluster } from "../support/cluster.ts";

export const ROOT = join(import.meta.dirname, "..", "..");
export const SUB = "00000000-0000-0000-0000-000000000001";
const RG = `/subscriptions/${SUB}/resourceGroups/demo-rg/providers`;
export const VM_ID = `${RG}/Microsoft.Compute/virtualMachines/web-1`;
export const NIC_NSG = `${RG}/Microsoft.Network/networkSecurityGroups/web-1-nic-nsg`;
export const SUBNET_NSG = `${RG}/Microsoft.Network/networkSecurityGroups/web-subnet-nsg`;
export const JUMP_NSG = `${RG}/Microsoft.Network/networkSecurityGroups/jump-nsg`;
export const ALL_NSGS = [NIC_NSG, SUBNET_NSG, JUMP_NSG];

export type Rule = RuleDoc;

export interface OperatorOptions {
  writeMode?: "rule" | "nsg";
  resyncInterval?: string;
  /** Check the requester admission policy guards the namespace (default: opted out). */
  guarded?: boolean;
  extraArgs?: string[];
}

/** An operator process this stack started (see test/support/operator-process.ts). */
export type Operator = OperatorProcess;

export class Stack {
  readonly cluster: TestCluster;
  readonly emulator: RunningEmulator;
  readonly ns: string;
  operator: Operator | undefined;

  constructor(cluster: TestCluster, emulator: RunningEmulator, ns: string) {
    this.cluster = cluster;
    this.emulator = emulator;
    this.ns = ns;
  }

  /** With `scope` (the default) a JitScope named after the namespace grants it the whole subscription. */
  static async start(prefix: string, opts: { scope?: boolean } = {}): Promise<Stack> {
    const cluster = testCluster();
    const emulator = await startEmulator({
      seedFile: join(ROOT, "examples", "seed.yaml"),
      throttle: false,
      recordWrites: true,
    });
    const ns = await cluster.createNamespace(prefix);
    const stack = new Stack(cluster, emulator, ns);
    await stack.grantAlice();
    if (opts.scope !== false) await stack.applyScope([`/subscriptions/${SUB}`]);
    return stack;
  }

  /** Apply (or change) the JitScope named after the namespace that binds it to `azureScopes`. */
  async applyScope(azureScopes: string[], ceilings?: Record<string, unknown>): Promise<void> {
    await this.kubectlOk(["apply", "-f", "-"], {
      input: scopeYaml(this.ns, [this.ns], azureScopes, ceilings),
    });
  }

  async deleteScope(): Promise<void> {
    await this.kubectlOk(["delete", "jitscope", this.ns, "--ignore-not-found", "--wait=false"]);
  }

  startOperator(opts: OperatorOptions = {}): Operator {
    const args = [
      "run",
      `--kubeconfig=${this.cluster.adminKubeconfig}`,
      `--arm-endpoint=${this.emulator.endpoint}`,
      `--arm-ca-file=${this.emulator.caFile}`,
      "--leader-elect=false",
      `--namespace=${this.ns}`,
      // The signing key's Secret lives in the home namespace: each test's own (leader.test.ts sets it too).
      `--leader-election-namespace=${this.ns}`,
      "--metrics-bind-address=0",
      "--health-probe-bind-address=0",
      `--write-mode=${opts.writeMode ?? "rule"}`,
      `--resync-interval=${opts.resyncInterval ?? "5m"}`,
      "--log-level=debug",
      // The admission policy's scope index is tested on its own (scope.test.ts); others do not publish it.
      "--scope-index-name=",
      // The chart's requester admission policy is not installed here; guard.test.ts runs without this.
      ...(opts.guarded === true ? [] : ["--allow-unguarded-namespaces"]),
      ...(opts.extraArgs ?? []),
    ];
    this.operator = startOperatorProcess(args, { maxLogChars: 1_000_000 });
    this.#all.push(this.operator);
    return this.operator;
  }

  async stop(): Promise<void> {
    for (const op of this.#all) await op.stop();
    await this.emulator.close();
    // Cluster-scoped: it would outlive the test's namespace.
    await this.deleteScope().catch(() => undefined);
    if (process.env.DRAWBRIDGE_E2E_LOGS !== undefined && this.operator !== undefined) {
      writeFileSync(join(process.env.DRAWBRIDGE_E2E_LOGS, `${this.ns}.log`), this.logs);
    }
  }

  /** Output of every operator process this stack started (kept across restarts). */
  get logs(): string {
    return this.#all.map((op) => op.logs()).join("\n--- next operator process ---\n");
  }

  #all: Operator[] = [];

  /** alice may work with AccessRequests in the test namespace (and nothing else). */
  async grantAlice(): Promise<void> {
    await this.kubectlOk(["apply", "-f", "-"], { input: aliceRbacYaml(this.ns) });
  }

  async kubectlOk(args: string[], opts: { as?: string; input?: string } = {}): Promise<string> {
    const r = await this.cluster.kubectl(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  /** The example policy in this namespace, optionally changed. */
  policyYaml(mutate: (doc: Record<string, unknown>) => void = () => undefined): string {
    const doc = parse(readFileSync(join(ROOT, "examples", "policy.yaml"), "utf8")) as Record<string, unknown>;
    (doc.metadata as Record<string, unknown>).namespace = this.ns;
    mutate(doc);
    return stringify(doc);
  }

  async applyPolicy(mutate?: (doc: Record<string, unknown>) => void): Promise<void> {
    await this.kubectlOk(["apply", "-f", "-"], { input: this.policyYaml(mutate) });
  }

  /** As alice: create the example request with changes; resolves to its name. */
  async createRequest(spec: Record<string, unknown> = {}, as = "alice"): Promise<string> {
    const doc = parse(readFileSync(join(ROOT, "examples", "request.yaml"), "utf8")) as {
      metadata: Record<string, unknown>;
      spec: Record<string, unknown>;
    };
    doc.metadata.namespace = this.ns;
    doc.spec = { ...doc.spec, ...spec };
    const out = await this.kubectlOk(["create", "-f", "-", "-o", "name"], { as, input: stringify(doc) });
    return out.trim().split("/").pop() ?? "";
  }

  async getRequest(
    name: string,
  ): Promise<{ status?: Record<string, unknown>; metadata: Record<string, unknown> } | undefined> {
    const r = await this.cluster.kubectl(["get", "accessrequest", name, "-n", this.ns, "-o", "json"]);
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as { status?: Record<string, unknown>; metadata: Record<string, unknown> };
  }

  async phaseOf(name: string): Promise<string | undefined> {
    return (await this.getRequest(name))?.status?.phase as string | undefined;
  }

  rules(nsgId: string): Rule[] {
    const doc = this.emulator.getNsgDocument(nsgId) as
      { properties?: { securityRules?: Rule[] } } | undefined;
    return doc?.properties?.securityRules ?? [];
  }

  managed(nsgId: string): Rule[] {
    return this.rules(nsgId).filter((r) => r.name.startsWith("drawbridge-"));
  }

  foreign(nsgId: string): Rule[] {
    return this.rules(nsgId).filter((r) => !r.name.startsWith("drawbridge-"));
  }

  /** Delete a rule as a person in the portal would: straight through ARM. */
  async armDelete(nsgId: string, rule: string): Promise<void> {
    const r = await this.arm("DELETE", `${nsgId}/securityRules/${rule}`);
    if (![200, 202, 204].includes(r.status)) throw new Error(`DELETE ${rule}: ${r.status} ${r.text}`);
  }

  /** Create or replace a rule straight through ARM. */
  async armPut(nsgId: string, rule: string, properties: object): Promise<void> {
    const r = await this.arm("PUT", `${nsgId}/securityRules/${rule}`, { properties });
    if (![200, 201].includes(r.status)) throw new Error(`PUT ${rule}: ${r.status} ${r.text}`);
  }

  async arm(method: string, path: string, body?: object): Promise<{ status: number; text: string }> {
    const url = new URL(`${this.emulator.endpoint}${path}?api-version=2024-05-01`);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method,
          ca: this.emulator.caPem,
          headers: { authorization: "Bearer test", "content-type": "application/json" },
        },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => {
            resolve({ status: res.statusCode ?? 0, text });
          });
        },
      );
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** Allow rules that carry `source` for `port`. */
  allowsFor(nsgId: string, port: number, source: string): Rule[] {
    return this.managed(nsgId).filter(
      (r) =>
        r.properties.access === "Allow" && sourcesOf(r).includes(source) && portsOf(r).includes(String(port)),
    );
  }
}

export function sourcesOf(r: Rule): string[] {
  const p = r.properties;
  return p.sourceAddressPrefixes?.length
    ? p.sourceAddressPrefixes
    : p.sourceAddressPrefix === undefined
      ? []
      : [p.sourceAddressPrefix];
}

export function destinationsOf(r: Rule): string[] {
  const p = r.properties;
  return p.destinationAddressPrefixes?.length
    ? p.destinationAddressPrefixes
    : p.destinationAddressPrefix === undefined
      ? []
      : [p.destinationAddressPrefix];
}

export function portsOf(r: Rule): string[] {
  const p = r.properties;
  return p.destinationPortRanges?.length
    ? p.destinationPortRanges
    : p.destinationPortRange === undefined
      ? []
      : [p.destinationPortRange];
}

/** Poll `fn` until it returns a value that is not undefined/false; fail with `what` after timeoutMs. */
export { eventually } from "../support/poll.ts";
