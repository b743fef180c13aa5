// `drawbridge run [flags]`: parse and validate the configuration, then run the operator.
import { ConfigError, parseConfig, usageText, wantsHelp } from "./runtime/config.ts";
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
  return runOperator(config);
}
