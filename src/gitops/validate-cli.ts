// `drawbridge validate -f <files|dirs>...`: offline, no cluster. Exit 0 when every drawbridge
// object passes, 1 when one does not (or a file cannot be read), 2 on bad flags.
import { parseArgs } from "node:util";
import { checkManifests, formatFinding } from "./validate/check.ts";
import { crdValidator, loadCrds, schemaProblems } from "./validate/crd-schema.ts";
import { manifestFiles, readManifests } from "./validate/files.ts";

const USAGE = `usage: drawbridge validate -f <file|dir> [-f ...] [-o text|json]

Checks JitPolicy, AccessRequest and JitScope manifests offline: the CRDs' schemas and CEL rules
(as admission runs them) and drawbridge's semantic checks. Other kinds are skipped.
exit: 0 valid, 1 invalid or unreadable, 2 bad flags
`;

export function run(args: string[]): Promise<number> {
  return Promise.resolve(validate(args));
}

function validate(args: string[]): number {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        output: { type: "string", short: "o", default: "text" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
    if (values.help === true) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (values.filename === undefined || values.filename.length === 0) throw new Error("-f is required");
    if (values.output !== "text" && values.output !== "json")
      throw new Error(`-o must be text or json, got "${values.output}"`);
  } catch (err) {
    process.stderr.write(`drawbridge validate: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  let result;
  try {
    const { manifests, problems } = readManifests(manifestFiles(values.filename));
    const binary = crdValidator();
    const crds = loadCrds();
    result = checkManifests(manifests, problems, (objects) => schemaProblems(binary, crds, objects));
  } catch (err) {
    process.stderr.write(`drawbridge validate: ${(err as Error).message}\n`);
    return 1;
  }
  if (values.output === "json") process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    for (const f of result.findings) process.stdout.write(`${formatFinding(f)}\n`);
    process.stderr.write(
      `${result.checked} drawbridge objects checked, ${result.skipped} other objects skipped, ${result.findings.length} problems\n`,
    );
  }
  return result.findings.length === 0 ? 0 : 1;
}
