// The naive one-write-per-request design the scenarios are compared with: one allow rule per
// request, PUT through drawbridge's own Azure adapter (the real SDK), one at a time per NSG, since
// Azure serializes the writes to an NSG. Its N-th request on an NSG waits for N writes; so do the
// removals when N grants lapse together.
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { createAzureAdapter, createCredential } from "../src/azure/index.ts";
import type { AzureAdapter } from "../src/azure/index.ts";
import type { SecurityRule } from "../src/core/nsg.ts";
import { foreignRules, nsgDocument, nsgId, PORT, sourceOf } from "./estate.ts";
import type { Stack } from "./stack.ts";

export function naiveAdapter(stack: Stack): AzureAdapter {
  const { endpoint, caFile } = stack.emulator;
  return createAzureAdapter({
    credential: createCredential({ armEndpoint: endpoint, armCaFile: caFile }),
    endpoint,
    caPem: readFileSync(caFile, "utf8"),
    logger: pino({ level: "silent" }),
    pollIntervalMs: 50,
  });
}

/** Request k's rule, the i-th on its NSG. */
export function naiveRule(k: number, i: number, note: string): SecurityRule {
  return {
    name: `drawbridge-naive-${k}`,
    priority: 100 + i,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: sourceOf(k),
    sourcePortRange: "*",
    destinationAddressPrefix: "10.0.2.4/32",
    destinationPortRange: String(PORT),
    description: `naive baseline: one rule per request (${note}-${k})`,
  };
}

/**
 * Median ms of one naive rule write at emulator write latency `latencyMs`: `writes` PUTs one after
 * another on an NSG of their own. Leaves the emulator's write latency at `latencyMs`.
 */
export async function naiveWriteMs(stack: Stack, latencyMs: number, writes: number): Promise<number> {
  const { admin } = stack.emulator;
  const id = nsgId(`naive-w-${Date.now().toString(36)}-${latencyMs}`);
  await admin.addResources([nsgDocument(id, foreignRules())]);
  await admin.setWriteLatency(latencyMs);
  const azure = naiveAdapter(stack);
  const took: number[] = [];
  try {
    for (let i = 0; i < writes; i++) {
      const t0 = Date.now();
      await azure.putRule(id, naiveRule(i, i, "w"));
      took.push(Date.now() - t0);
    }
  } finally {
    azure.close();
  }
  took.sort((a, b) => a - b);
  return took[took.length >> 1] ?? NaN;
}

/**
 * At least the naive design's p-th percentile grant latency (and revoke lag) for n requests on one
 * NSG: the request of rank ceil(p * n) waits for that many serial writes, Kubernetes time not
 * counted.
 */
export function naiveAtLeastMs(writeMs: number, n: number, p = 0.99): number {
  return Math.round(Math.ceil(p * n) * writeMs);
}
