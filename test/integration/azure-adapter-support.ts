// The Azure adapter tests' adapter: over an ARM emulator, silent, recording each ARM call it makes.
import { pino } from "pino";
import { createAzureAdapter, type AzureAdapter, type AzureAdapterOptions } from "../../src/azure/adapter.ts";
import { StaticTokenCredential } from "../../src/azure/credentials.ts";
import type { RunningEmulator } from "../../src/emulator/index.ts";

/**
 * An adapter against `emu` whose ARM calls land in `calls`, each as `entry` writes it; `extra` is
 * passed on over the defaults, and its own onArmCall still sees every call.
 */
export function recordingAdapter<T>(
  emu: RunningEmulator,
  entry: (op: string, status: number | "error") => T,
  extra: Partial<AzureAdapterOptions> = {},
): { a: AzureAdapter; calls: T[] } {
  const calls: T[] = [];
  const hook = extra.onArmCall;
  const a = createAzureAdapter({
    credential: new StaticTokenCredential("integration-test"),
    endpoint: emu.endpoint,
    caPem: emu.caPem,
    logger: pino({ level: "silent" }),
    ...extra,
    onArmCall: (op, status, ms) => {
      calls.push(entry(op, status));
      hook?.(op, status, ms);
    },
  });
  return { a, calls };
}

/** A call as the tests compare it: "PUT securityRules 201". */
export function callLine(op: string, status: number | "error"): string {
  return `${op} ${status}`;
}
