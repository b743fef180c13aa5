// The operator's Azure port in memory, for in-process tests of the reconcilers: NSGs holding rules
// (names compare in any letter case, a PUT onto a rule keeps its spelling, the etag changes with every
// write, as ARM does), VMs to resolve, a log of every write attempt with its outcome, and failures
// injected per operation: 429 with Retry-After, 412, 400 (ARM refuses the body), 404.
import { AzureError } from "../../src/azure/port.ts";
import type { AzurePort, ResolvedVm } from "../../src/azure/port.ts";
import type { ObservedNsg, SecurityRule } from "../../src/core/index.ts";

export type AzureOp =
  "resolveVirtualMachine" | "getNsg" | "listNsgs" | "putRule" | "deleteRule" | "replaceRules";

/** One write as the port received it; `outcome` is "ok" or the kind of error it was answered with. */
export interface WriteRecord {
  op: "putRule" | "deleteRule" | "replaceRules";
  nsgId: string;
  /** The rule name (putRule, deleteRule) or the body's rule names joined by "," (replaceRules). */
  subject: string;
  outcome: "ok" | AzureError["kind"];
}

interface Fault {
  op: AzureOp;
  /** Matches the NSG or VM id, or the rule name; undefined matches every call of `op`. */
  match: ((subject: string) => boolean) | undefined;
  times: number;
  error: () => AzureError;
}

export const throttled = (retryAfterMs: number): AzureError =>
  new AzureError("Throttled", "Too many requests", { statusCode: 429, retryAfterMs });
export const preconditionFailed = (): AzureError =>
  new AzureError("PreconditionFailed", "The etag does not match", { statusCode: 412 });
export const invalid = (
  code = "SecurityRuleInvalidPortRange",
  message = "ARM refused the rule",
): AzureError => new AzureError("Invalid", message, { statusCode: 400, code });
export const notFound = (what = "resource"): AzureError =>
  new AzureError("NotFound", `${what} not found`, { statusCode: 404 });

export class MemoryAzure implements AzurePort {
  readonly #nsgs = new Map<string, ObservedNsg>();
  readonly #vms = new Map<string, ResolvedVm>();
  readonly #faults: Fault[] = [];
  readonly writes: WriteRecord[] = [];
  /** Every call, failed ones included, as "op subject". */
  readonly calls: string[] = [];
  #etag = 0;
  #latency: { advance(ms: number): void; ms: number } | undefined;
  /** When set, a write waits for the promise it returns before it lands (undefined: no wait). */
  gate: ((op: WriteRecord["op"], nsgId: string) => Promise<void> | undefined) | undefined;

  addNsg(id: string, rules: SecurityRule[] = []): void {
    this.#nsgs.set(id.toLowerCase(), { id, etag: this.#nextEtag(), securityRules: structuredClone(rules) });
  }

  removeNsg(id: string): void {
    this.#nsgs.delete(id.toLowerCase());
  }

  addVm(vm: ResolvedVm): void {
    this.#vms.set(vm.id.toLowerCase(), structuredClone(vm));
  }

  /** The NSG's rules as stored now (a copy). */
  rules(nsgId: string): SecurityRule[] {
    return structuredClone(this.#nsg(nsgId).securityRules);
  }

  etag(nsgId: string): string | undefined {
    return this.#nsg(nsgId).etag;
  }

  /** A change made by someone else (portal, another tool): the rule is added and the etag moves. */
  foreignPut(nsgId: string, rule: SecurityRule): void {
    const nsg = this.#nsg(nsgId);
    nsg.securityRules = [
      ...nsg.securityRules.filter((r) => !sameName(r.name, rule.name)),
      structuredClone(rule),
    ];
    nsg.etag = this.#nextEtag();
  }

  /** Each write takes `ms` of `clock` time (ARM writes take seconds; the batching hold is capped by it). */
  latency(clock: { advance(ms: number): void }, ms: number): void {
    this.#latency = {
      advance: (t) => {
        clock.advance(t);
      },
      ms,
    };
  }

  /** Answer the next `times` calls of `op` (whose subject `match` accepts) with `error`. */
  fail(
    op: AzureOp,
    error: () => AzureError,
    opts: { times?: number; match?: (s: string) => boolean } = {},
  ): void {
    this.#faults.push({ op, error, times: opts.times ?? 1, match: opts.match });
  }

  /** Writes that succeeded, as "op subject" (the NSG id left out: tests name it when it matters). */
  succeeded(): string[] {
    return this.writes.filter((w) => w.outcome === "ok").map((w) => `${w.op} ${w.subject}`);
  }

  resolveVirtualMachine(vmId: string): Promise<ResolvedVm> {
    return this.#call("resolveVirtualMachine", vmId, () => {
      const vm = this.#vms.get(vmId.toLowerCase());
      if (vm === undefined) throw notFound(`virtual machine ${vmId}`);
      return structuredClone(vm);
    });
  }

  getNsg(nsgId: string): Promise<ObservedNsg> {
    return this.#call("getNsg", nsgId, () => structuredClone(this.#nsg(nsgId)));
  }

  listNsgs(subscriptionId: string): Promise<ObservedNsg[]> {
    const prefix = `/subscriptions/${subscriptionId.toLowerCase()}/`;
    return this.#call("listNsgs", subscriptionId, () =>
      [...this.#nsgs.entries()].filter(([k]) => k.startsWith(prefix)).map(([, n]) => structuredClone(n)),
    );
  }

  putRule(nsgId: string, rule: SecurityRule): Promise<void> {
    return this.#write("putRule", nsgId, rule.name, rule.name, (nsg) => {
      const i = nsg.securityRules.findIndex((r) => sameName(r.name, rule.name));
      const stored = { ...structuredClone(rule), name: nsg.securityRules[i]?.name ?? rule.name };
      if (i < 0) nsg.securityRules.push(stored);
      else nsg.securityRules[i] = stored;
    });
  }

  deleteRule(nsgId: string, ruleName: string): Promise<void> {
    return this.#write("deleteRule", nsgId, ruleName, ruleName, (nsg) => {
      if (!nsg.securityRules.some((r) => sameName(r.name, ruleName))) throw notFound(`rule ${ruleName}`);
      nsg.securityRules = nsg.securityRules.filter((r) => !sameName(r.name, ruleName));
    });
  }

  async replaceRules(observed: ObservedNsg, securityRules: SecurityRule[]): Promise<ObservedNsg> {
    const names = securityRules.map((r) => r.name).join(",");
    await this.#write("replaceRules", observed.id, observed.id, names, (nsg) => {
      if (observed.etag !== nsg.etag) throw preconditionFailed();
      nsg.securityRules = structuredClone(securityRules);
    });
    return structuredClone(this.#nsg(observed.id));
  }

  async #write(
    op: WriteRecord["op"],
    nsgId: string,
    faultSubject: string,
    subject: string,
    apply: (nsg: ObservedNsg) => void,
  ): Promise<void> {
    const record: WriteRecord = { op, nsgId, subject, outcome: "ok" };
    this.writes.push(record);
    const held = this.gate?.(op, nsgId);
    if (held !== undefined) await held;
    this.#latency?.advance(this.#latency.ms);
    try {
      await this.#call(op, faultSubject, () => {
        const nsg = this.#nsg(nsgId);
        apply(nsg);
        nsg.etag = this.#nextEtag();
      });
    } catch (err) {
      record.outcome = err instanceof AzureError ? err.kind : "Transient";
      throw err;
    }
  }

  /** Runs `fn` unless a fault is due for this call; async like the real port. */
  #call<T>(op: AzureOp, subject: string, fn: () => T): Promise<T> {
    this.calls.push(`${op} ${subject}`);
    const i = this.#faults.findIndex((f) => f.op === op && (f.match === undefined || f.match(subject)));
    const fault = this.#faults[i];
    if (fault !== undefined) {
      if (--fault.times <= 0) this.#faults.splice(i, 1);
      return Promise.reject(fault.error());
    }
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #nsg(id: string): ObservedNsg {
    const nsg = this.#nsgs.get(id.toLowerCase());
    if (nsg === undefined) throw notFound(`network security group ${id}`);
    return nsg;
  }

  #nextEtag(): string {
    return `W/"${String(++this.#etag)}"`;
  }
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
