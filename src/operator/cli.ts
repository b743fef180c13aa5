// `drawbridge run [flags]`: parse and validate the configuration, then run the operator.
import { ConfigError, parseConfig, usageText, wantsHelp } from "../runtime/config.ts";
import { runOperator } from "./main.ts";

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    process.stdout.write(usageText());
    return 0;
  }
  let config;
  try {
    config = parseConfig(args, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`drawbridge run: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    return await runOperator(config);
  } catch (err) {
    // Start-up failures (unreadable kubeconfig or CA file, port in use, ...): one clear line, exit 1.
    process.stderr.write(`drawbridge run: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
