// Fault injection: each ARM request draws once against the configured rates.
import { ArmError } from "./errors.ts";
import type { FaultOptions } from "./types.ts";

export type Fault = "drop" | "timeout" | "429" | "500" | "503" | undefined;

export function drawFault(f: FaultOptions, random: () => number = Math.random): Fault {
  const r = random();
  let acc = 0;
  const table: [Exclude<Fault, undefined>, number | undefined][] = [
    ["drop", f.rateDrop],
    ["timeout", f.rateTimeout],
    ["429", f.rate429],
    ["500", f.rate500],
    ["503", f.rate503],
  ];
  for (const [fault, rate] of table) {
    acc += rate ?? 0;
    if (r < acc) return fault;
  }
  return undefined;
}

export function faultError(fault: "429" | "500" | "503", subscriptionId: string): ArmError {
  if (fault === "429") {
    return new ArmError(
      429,
      "SubscriptionRequestsThrottled",
      `Number of requests for subscription '${subscriptionId}' exceeded the limit (injected fault). Please try again after '1' seconds.`,
      { headers: { "Retry-After": "1" } },
    );
  }
  if (fault === "503") {
    return new ArmError(
      503,
      "ServiceUnavailable",
      "The service is temporarily unavailable (injected fault).",
      {
        headers: { "Retry-After": "1" },
      },
    );
  }
  return new ArmError(500, "InternalServerError", "Encountered internal server error (injected fault).");
}

function checkNumbers(f: Record<string, unknown>, keys: string[], max: number): void {
  for (const k of keys) {
    const v = f[k];
    if (v !== undefined && (typeof v !== "number" || v < 0 || v > max)) {
      throw new Error(`faults.${k}: expected a number in 0..${max}`);
    }
  }
}

export function validateFaults(raw: unknown): FaultOptions {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new Error("faults: expected an object");
  const f = raw as Record<string, unknown>;
  checkNumbers(f, ["rate429", "rate500", "rate503", "rateDrop", "rateTimeout"], 1);
  checkNumbers(f, ["timeoutMs", "foreignWriterIntervalMs", "foreignWriterRaces"], Number.MAX_SAFE_INTEGER);
  const ids = f["foreignWriterNsgIds"];
  if (ids !== undefined && (!Array.isArray(ids) || ids.some((x) => typeof x !== "string"))) {
    throw new Error("faults.foreignWriterNsgIds: expected an array of NSG ids");
  }
  return f;
}
