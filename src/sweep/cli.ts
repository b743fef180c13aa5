// `drawbridge sweep [flags]`: the fail-safe that does not need the operator (nor Kubernetes):
// removes this instance's allow rules whose stated expiry has passed. Exit 0 when every ARM call
// succeeded, 1 when one failed (what was reachable is still swept), 2 on a bad flag.
import { readFileSync } from "node:fs";
import { createAzureAdapter, createCredential } from "../azure/index.ts";
import { createLogger } from "../runtime/logger.ts";
import { parseSweepConfig, SweepConfigError, sweepUsage, wantsHelp } from "./config.ts";
import type { SweepConfig } from "./config.ts";
import { runSweep } from "./sweep.ts";

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    process.stdout.write(sweepUsage());
    return 0;
  }
  let config: SweepConfig;
  try {
    config = parseSweepConfig(args, process.env);
  } catch (err) {
    if (err instanceof SweepConfigError) {
      process.stderr.write(`drawbridge sweep: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel).child({ component: "sweep" });
  let azure;
  try {
    azure = createAzureAdapter({
      credential: createCredential({
        armEndpoint: config.armEndpoint,
        armCaFile: config.armCaFile,
        staticToken: config.armToken,
      }),
      endpoint: config.armEndpoint,
      caPem: config.armCaFile === undefined ? undefined : readFileSync(config.armCaFile, "utf8"),
      logger: logger.child({ component: "azure" }),
    });
  } catch (err) {
    process.stderr.write(`drawbridge sweep: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  // The adapter's retry back-offs sleep on unref'ed timers (they must never keep an operator alive);
  // a one-shot command needs the process kept alive until the sweep has settled.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    const summary = await runSweep(config, { azure, logger, now: () => Date.now() });
    return summary.errors === 0 ? 0 : 1;
  } finally {
    clearInterval(keepAlive);
    azure.close();
  }
}
