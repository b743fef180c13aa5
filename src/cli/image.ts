// Entry point of the operator image (bundled by scripts/build.ts into dist/drawbridge.js): only the
// commands the image promises, `run` (the Deployment) and `sweep` (the CronJob). The others
// (emulator, cluster, demo, access, ...) need the source repository and stay out of the bundle.
import { dispatch } from "./dispatch.ts";
import type { Commands } from "./dispatch.ts";

const IMAGE_COMMANDS: Commands = {
  run: { summary: "run the operator", load: () => import("../operator/cli.ts") },
  sweep: {
    summary: "remove lapsed allow rules without the operator (fail-safe)",
    load: () => import("../sweep/cli.ts"),
  },
};

function refuse(name: string): string | undefined {
  return /^[a-z][a-z-]*$/.test(name)
    ? `"${name}" is not a command of the operator image (it has: ${Object.keys(IMAGE_COMMANDS).join(", ")}); ` +
        "the other commands run from a source clone: node bin/drawbridge.js " +
        name
    : undefined;
}

process.exitCode = await dispatch(IMAGE_COMMANDS, process.argv.slice(2), refuse);
