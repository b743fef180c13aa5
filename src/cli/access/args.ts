// Command-line parsing for `kubectl drawbridge` / `drawbridge access`: node:util parseArgs with the
// flags every command shares (kubectl's --kubeconfig, --context, -n, and -o) plus the command's own.
import { parseArgs } from "node:util";

export type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

export const GLOBAL_FLAGS: FlagSpec = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  namespace: { type: "string", short: "n" },
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
};

export type OutputFormat = "table" | "json" | "yaml";

export interface Parsed {
  positionals: string[];
  strings: Record<string, string | undefined>;
  lists: Record<string, string[]>;
  booleans: Record<string, boolean>;
  output: OutputFormat;
}

/** A mistake on the command line: exit code 2, with the message and the command's usage. */
export class UsageError extends Error {}

export function parse(argv: string[], own: FlagSpec): Parsed {
  const options = { ...GLOBAL_FLAGS, ...own };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const out: Parsed = { positionals, strings: {}, lists: {}, booleans: {}, output: "table" };
  for (const [name, spec] of Object.entries(options)) {
    const v = values[name];
    if (spec.type === "boolean") out.booleans[name] = v === true;
    else if (spec.multiple === true) out.lists[name] = Array.isArray(v) ? v.map(String) : [];
    else out.strings[name] = typeof v === "string" ? v : undefined;
  }
  const o = out.strings["output"] ?? "table";
  if (o !== "table" && o !== "json" && o !== "yaml") {
    throw new UsageError(`-o/--output must be table, json or yaml, got "${o}"`);
  }
  out.output = o;
  return out;
}

/** --port values (repeatable, or comma-separated) as distinct port numbers 1..65535. */
export function parsePorts(values: string[]): number[] {
  const out: number[] = [];
  for (const text of values.flatMap((v) => v.split(","))) {
    const n = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > 65535) {
      throw new UsageError(`--port must be a port number from 1 to 65535, got "${text}"`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** Exactly one positional argument, named `what` in the error. */
export function onePositional(p: Parsed, what: string): string {
  const [first, ...rest] = p.positionals;
  if (first === undefined) throw new UsageError(`missing <${what}>`);
  if (rest.length > 0) throw new UsageError(`unexpected arguments after <${what}>: ${rest.join(" ")}`);
  return first;
}
