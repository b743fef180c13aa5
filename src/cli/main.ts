// `drawbridge <command>`: each command lives in its own module and is loaded on demand, so the
// emulator does not load the Kubernetes client and the operator does not load the emulator.
// The operator image has its own entry with the operator's commands only (src/cli/image.ts).
import { dispatch } from "./dispatch.ts";
import type { Commands } from "./dispatch.ts";

const COMMANDS: Commands = {
  run: { summary: "run the operator", load: () => import("../operator/cli.ts") },
  sweep: {
    summary: "remove lapsed allow rules without the operator (fail-safe)",
    load: () => import("../sweep/cli.ts"),
  },
  emulator: { summary: "run the ARM emulator", load: () => import("../emulator/cli.ts") },
  cluster: {
    summary: "start/stop the local control plane (up|env|down)",
    load: () => import("../controlplane/cli.ts"),
  },
  demo: {
    summary: "control plane + emulator + operator with examples/",
    load: () => import("../demo/cli.ts"),
  },
  access: {
    summary: "the engineer's commands (request, list, extend, ...): same as kubectl drawbridge",
    load: () => import("./access/cli.ts"),
  },
  helm: { summary: "run the pinned Helm", load: () => import("../helm/cli.ts") },
  plan: {
    summary: "show the NSG rule changes applying JitPolicy files would make",
    load: () => import("../gitops/plan-cli.ts"),
  },
  validate: {
    summary: "check drawbridge manifests offline (CRD schema, CEL, semantics)",
    load: () => import("../gitops/validate-cli.ts"),
  },
  import: {
    summary: "turn Defender for Cloud JIT policies into JitPolicy YAML",
    load: () => import("../gitops/import-main.ts"),
  },
};

// The benchmarks are not part of the image; they run from a clone through their own entry.
const refuse = (name: string): string | undefined =>
  name === "bench"
    ? "the benchmarks ship with the source repository, not this command: run `npm run bench` in a clone"
    : undefined;

export function main(argv: string[]): Promise<number> {
  return dispatch(COMMANDS, argv, refuse);
}
