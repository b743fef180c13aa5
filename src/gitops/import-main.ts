// `drawbridge import <source>`: the migration entry point; only Defender for Cloud JIT for now.
import { readFileSync } from "node:fs";
import { IMPORT_USAGE, importDefender } from "./import-cli.ts";

export function run(args: string[]): Promise<number> {
  const [source, ...rest] = args;
  if (source === "defender") {
    return Promise.resolve(
      importDefender(rest, {
        stdout: (s) => process.stdout.write(s),
        stderr: (s) => process.stderr.write(s),
        readStdin: () => readFileSync(0, "utf8"),
      }),
    );
  }
  const help = source === undefined || source === "-h" || source === "--help";
  (help ? process.stdout : process.stderr).write(
    help ? IMPORT_USAGE : `drawbridge import: unknown source "${source}"\n\n${IMPORT_USAGE}`,
  );
  return Promise.resolve(help ? 0 : 2);
}
