// `drawbridge plan -f <files|dirs>`: per NSG, the rule changes applying the given JitPolicies would
// make, read from the live cluster and the live NSGs (ARM or the emulator); writes nothing. Exit
// codes as `terraform plan -detailed-exitcode`: 0 no change, 2 changes, 1 error (also bad flags).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { JitPolicy } from "../api/types.ts";
import { API_GROUP_VERSION } from "../api/types.ts";
import { createAzureAdapter, createCredential } from "../azure/index.ts";
import { createLogger } from "../runtime/logger.ts";
import { readLiveState } from "./plan/cluster.ts";
import { computePlan } from "./plan/compute.ts";
import { renderPlan } from "./plan/render.ts";
import { manifestFiles, readManifests } from "./validate/files.ts";

const USAGE = `usage: drawbridge plan -f <file|dir> [-f ...] [-o text|json] [flags]

flags:
  --kubeconfig <path>     cluster to read (default: KUBECONFIG / in-cluster)
  --arm-endpoint <url>    ARM base URL, e.g. the emulator (default: Azure)
  --arm-ca-file <path>    PEM CA bundle trusted for --arm-endpoint
  --arm-token <token>     static bearer token for --arm-endpoint
exit: 0 no change, 2 changes, 1 error
`;

interface PlanFlags {
  filename?: string[];
  output?: string;
  kubeconfig?: string;
  "arm-endpoint"?: string;
  "arm-ca-file"?: string;
  "arm-token"?: string;
}

function options(args: string[]): PlanFlags {
  return parseArgs({
    args,
    options: {
      filename: { type: "string", short: "f", multiple: true },
      output: { type: "string", short: "o", default: "text" },
      kubeconfig: { type: "string" },
      "arm-endpoint": { type: "string" },
      "arm-ca-file": { type: "string" },
      "arm-token": { type: "string" },
    },
  }).values;
}

export async function run(args: string[]): Promise<number> {
  let v;
  try {
    v = options(args);
    if (v.filename === undefined || v.filename.length === 0) throw new Error("-f is required");
    if (v.output !== "text" && v.output !== "json")
      throw new Error(`-o must be text or json, got "${v.output}"`);
  } catch (err) {
    process.stderr.write(`drawbridge plan: ${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const { manifests, problems } = readManifests(manifestFiles(v.filename));
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(`${p.file}:${p.line}: ${p.message}\n`);
    return 1;
  }
  const proposed = manifests
    .map((m) => m.object)
    .filter((o) => o["apiVersion"] === API_GROUP_VERSION && o["kind"] === "JitPolicy")
    .map((o) => o as unknown as JitPolicy)
    .map((p) => ({ ...p, metadata: { ...p.metadata, namespace: p.metadata.namespace ?? "default" } }));
  const endpoint = v["arm-endpoint"];
  const caFile = v["arm-ca-file"];
  const azure = createAzureAdapter({
    credential: createCredential({ armEndpoint: endpoint, armCaFile: caFile, staticToken: v["arm-token"] }),
    endpoint,
    caPem: caFile === undefined ? undefined : readFileSync(caFile, "utf8"),
    logger: createLogger("warn").child({ component: "azure" }),
  });
  // Retry back-offs sleep on unref'ed timers; keep the process alive until the plan settles.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    const report = await computePlan(proposed, await readLiveState(v.kubeconfig), azure, new Date());
    process.stdout.write(v.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : renderPlan(report));
    return report.changed ? 2 : 0;
  } catch (err) {
    process.stderr.write(`drawbridge plan: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    clearInterval(keepAlive);
    azure.close();
  }
}
