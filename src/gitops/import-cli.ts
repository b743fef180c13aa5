// `drawbridge import defender <file|->`: Defender for Cloud JIT policies (Microsoft.Security
// jitNetworkAccessPolicies JSON) to JitPolicy YAML on stdout. Whatever does not carry over, and
// every request found in the input, goes to stderr. Exit 0 when everything was imported, 3 when
// YAML was written but something was left out, 1 when nothing could be read, 2 on bad flags.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { importPolicies } from "./defender/group.ts";
import { DefenderInputError, parseDefenderJson } from "./defender/input.ts";
import { renderPolicies } from "./defender/render.ts";

export const IMPORT_USAGE = `usage: drawbridge import defender <file|-> [flags]

Turns Microsoft.Security jitNetworkAccessPolicies JSON (API 2020-01-01: a GET body, a list body,
an ARM template or one of its resources) into JitPolicy YAML on stdout.

flags:
  -n, --namespace <ns>       namespace of the JitPolicies (default "default")
      --priority-start <n>   first priority of the first policy's band (default 100)
      --band-size <n>        priorities per policy (default 100; policies get consecutive bands)

exit: 0 all imported, 3 imported with omissions (listed on stderr), 1 unreadable input, 2 bad flags
`;

export interface IO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  readStdin: () => string;
}

function intFlag(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be an integer ${min}..${max}, got "${value}"`);
  return n;
}

export function importDefender(args: string[], io: IO): number {
  let opts;
  let file: string | undefined;
  try {
    const parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        namespace: { type: "string", short: "n" },
        "priority-start": { type: "string" },
        "band-size": { type: "string" },
      },
    });
    if (parsed.positionals.length !== 1) throw new Error("expected exactly one input: a file or - for stdin");
    file = parsed.positionals[0];
    opts = {
      namespace: parsed.values.namespace ?? "default",
      priorityStart: intFlag(parsed.values["priority-start"], "priority-start", 100, 100, 4096),
      bandSize: intFlag(parsed.values["band-size"], "band-size", 100, 2, 3997),
    };
  } catch (err) {
    io.stderr(`drawbridge import defender: ${(err as Error).message}\n\n${IMPORT_USAGE}`);
    return 2;
  }
  let text: string;
  try {
    text = file === "-" ? io.readStdin() : readFileSync(String(file), "utf8");
  } catch (err) {
    io.stderr(`drawbridge import defender: cannot read ${String(file)}: ${(err as Error).message}\n`);
    return 1;
  }
  let input;
  try {
    input = parseDefenderJson(text, file === "-" ? "stdin" : String(file));
  } catch (err) {
    if (!(err instanceof DefenderInputError)) throw err;
    io.stderr(`drawbridge import defender: ${err.message}\n`);
    return 1;
  }
  const result = importPolicies(input.policies, opts);
  io.stdout(renderPolicies(result.policies));
  for (const n of input.notes) io.stderr(`note: ${n}\n`);
  for (const u of result.unmapped) io.stderr(`not imported: ${u}\n`);
  for (const r of result.requests) io.stderr(`open request (listed, not imported): ${r}\n`);
  io.stderr(`imported ${result.policies.length} JitPolicies; ${result.unmapped.length} items not imported\n`);
  return result.unmapped.length > 0 || result.policies.length === 0 ? 3 : 0;
}
