// `drawbridge emulator`: runs the ARM emulator alone until SIGINT/SIGTERM.
import { parseArgs } from "node:util";
import { startEmulator } from "./index.ts";
import type { EmulatorOptions, FaultOptions } from "./types.ts";

const USAGE = `usage: drawbridge emulator [--listen 127.0.0.1:8443] [--seed examples/seed.yaml] [--state-dir DIR]
  [--latency-read-ms N] [--latency-write-ms N] [--no-throttle] [--no-auth] [--lro async] [--lro-duration-ms N]
  [--fault-429 R] [--fault-500 R] [--fault-503 R] [--fault-drop R] [--fault-timeout R] [--timeout-ms N]
  [--foreign-writer-ms N --foreign-writer-nsg ID ...] [--page-size N]
Prints ARM_ENDPOINT=... and ARM_CA_FILE=... when ready.
`;

function num(v: string | undefined, flag: string, max = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > max)
    throw new Error(`${flag}: expected a number between 0 and ${max}, got '${v}'`);
  return n;
}

function listen(v: string | undefined): { host: string; port: number } {
  if (v === undefined) return { host: "127.0.0.1", port: 0 };
  const i = v.lastIndexOf(":");
  const host = i <= 0 ? "127.0.0.1" : v.slice(0, i).replace(/^\[|\]$/g, "");
  const port = num(i < 0 ? v : v.slice(i + 1), "--listen port", 65535) ?? 0;
  return { host, port };
}

export function parseEmulatorArgs(args: string[]): EmulatorOptions {
  const { values } = parseArgs({
    args,
    options: {
      listen: { type: "string" },
      seed: { type: "string" },
      "state-dir": { type: "string" },
      "latency-read-ms": { type: "string" },
      "latency-write-ms": { type: "string" },
      "no-throttle": { type: "boolean" },
      "no-auth": { type: "boolean" },
      lro: { type: "string" },
      "lro-duration-ms": { type: "string" },
      "fault-429": { type: "string" },
      "fault-500": { type: "string" },
      "fault-503": { type: "string" },
      "fault-drop": { type: "string" },
      "fault-timeout": { type: "string" },
      "timeout-ms": { type: "string" },
      "foreign-writer-ms": { type: "string" },
      "foreign-writer-nsg": { type: "string", multiple: true },
      "page-size": { type: "string" },
    },
    strict: true,
  });
  if (values.lro !== undefined && values.lro !== "sync" && values.lro !== "async")
    throw new Error("--lro: expected sync or async");
  const faults: FaultOptions = {
    rate429: num(values["fault-429"], "--fault-429", 1),
    rate500: num(values["fault-500"], "--fault-500", 1),
    rate503: num(values["fault-503"], "--fault-503", 1),
    rateDrop: num(values["fault-drop"], "--fault-drop", 1),
    rateTimeout: num(values["fault-timeout"], "--fault-timeout", 1),
    timeoutMs: num(values["timeout-ms"], "--timeout-ms"),
    foreignWriterIntervalMs: num(values["foreign-writer-ms"], "--foreign-writer-ms"),
    foreignWriterNsgIds: values["foreign-writer-nsg"],
  };
  const { host, port } = listen(values.listen);
  return {
    host,
    port,
    seedFile: values.seed,
    stateDir: values["state-dir"],
    latencyMs: {
      read: num(values["latency-read-ms"], "--latency-read-ms"),
      write: num(values["latency-write-ms"], "--latency-write-ms"),
    },
    throttle: values["no-throttle"] !== true,
    requireToken: values["no-auth"] !== true,
    lroMode: values.lro === "async" ? "async" : "sync",
    lroDurationMs: num(values["lro-duration-ms"], "--lro-duration-ms"),
    pageSize: num(values["page-size"], "--page-size"),
    faults,
  };
}

export async function run(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  let opts: EmulatorOptions;
  try {
    opts = parseEmulatorArgs(args);
  } catch (e) {
    process.stderr.write(`drawbridge emulator: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const emu = await startEmulator(opts);
  process.stdout.write(`ARM_ENDPOINT=${emu.endpoint}\nARM_CA_FILE=${emu.caFile}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => {
      resolve("SIGINT");
    });
    process.once("SIGTERM", () => {
      resolve("SIGTERM");
    });
  });
  process.stderr.write(`drawbridge emulator: ${signal}, shutting down\n`);
  await emu.close();
  return 0;
}
